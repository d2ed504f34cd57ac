import { LibsqlError } from "./errors.js";

/**
 * Open/closed state of a resource, remembering why it closed so that a later
 * use can say so: the error thrown has the close reason as its `cause`.
 */
export class Lifecycle {
  readonly #what: string;
  readonly #code: string;
  #reason: Error | undefined;

  /** `what` names the resource in messages ("client"); `code` is thrown on use after close. */
  constructor(what: string, code: string) {
    this.#what = what;
    this.#code = code;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#reason !== undefined;
  }

  /** Why it closed, if it did. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** Marks the resource closed; the first reason given is kept. Returns false if it was already closed. */
  close(reason: string | Error): boolean {
    if (this.#reason) return false;
    this.#reason = typeof reason === "string" ? new Error(reason) : reason;
    return true;
  }

  /** Throws the coded error when closed. */
  check(): void {
    if (this.#reason) throw this.error();
  }

  /** The error a use after close gets. */
  error(): LibsqlError {
    return new LibsqlError(`The ${this.#what} is closed`, this.#code, undefined, undefined, this.#reason);
  }
}
