import type { LibsqlError } from "../errors.js";
import { RemoteErrorCode, remoteError } from "./remote-errors.js";

/**
 * The `AbortSignal` of one remote call: it aborts when the client's own signal
 * does (`REQUEST_ABORTED`) or when an armed timeout expires (`REQUEST_TIMEOUT`).
 * Its reason is always the coded `LibsqlError`, so whatever rejects because of
 * it (fetch, a body read, a wait) rejects with that error.
 */
export class CallSignal {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(outer: AbortSignal | undefined) {
    this.#outer = outer;
    this.#onOuterAbort = () =>
      this.#abort(remoteError(RemoteErrorCode.REQUEST_ABORTED, "The request was aborted", outer?.reason));
    if (outer?.aborted) this.#onOuterAbort();
    else outer?.addEventListener("abort", this.#onOuterAbort, { once: true });
  }

  /** The signal to hand to fetch. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The coded error the call was aborted with, if it was. */
  get error(): LibsqlError | undefined {
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as LibsqlError) : undefined;
  }

  /** Starts (or restarts) a timeout of `ms` milliseconds; undefined means none. */
  arm(ms: number | undefined): void {
    this.disarm();
    if (ms === undefined || this.#controller.signal.aborted) return;
    this.#timer = setTimeout(
      () => this.#abort(remoteError(RemoteErrorCode.REQUEST_TIMEOUT, `The server did not answer within ${ms} ms`)),
      ms,
    );
  }

  /** Stops the timeout. */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Settles like `promise`, or rejects with the abort error as soon as the call
   * aborts, even if whatever `promise` waits on ignores the signal (an injected
   * fetch may).
   */
  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.#controller.signal;
    if (signal.aborted) {
      promise.catch(() => {});
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const aborted = () => reject(signal.reason);
      signal.addEventListener("abort", aborted, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener("abort", aborted);
          resolve(value);
        },
        (error) => {
          signal.removeEventListener("abort", aborted);
          reject(signal.aborted ? signal.reason : error);
        },
      );
    });
  }

  /** Ends the call: no timeout fires and the client's signal is no longer watched. */
  dispose(): void {
    this.disarm();
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }

  #abort(error: LibsqlError): void {
    this.disarm();
    this.#controller.abort(error);
  }
}
