import { LibsqlError } from "../errors.js";
import type { CallSignal } from "./call-signal.js";
import type { Limiter } from "./limiter.js";
import { errorFromResponse, RemoteErrorCode, redact, remoteError } from "./remote-errors.js";
import {
  type Failure,
  failedBeforeSending,
  type Repeatable,
  type RetryPolicy,
  retryAfterMs,
  retryDelay,
  shouldRetry,
  sleep,
} from "./retry.js";

/** A fetch as `@libsql/client` calls it: with one `Request`. */
export type FetchFunction = (request: Request) => Promise<Response>;

/** What every request of a client shares. */
export interface SenderOptions {
  /** The injected fetch, or the global one. */
  fetch: FetchFunction;
  /** Headers of POST requests (authorization, encryption key). */
  headers: Readonly<Record<string, string>>;
  /** Texts that must never appear in an error message. */
  secrets: readonly string[];
  limiter: Limiter;
  retry: RetryPolicy;
}

/** One HTTP request to send. */
export interface HttpRequestSpec {
  url: string;
  method: "GET" | "POST";
  /** JSON text for POST. */
  body?: string;
  /** Send the client's headers (authorization, encryption key); default: for POST only. */
  credentials?: boolean;
}

/** A failed attempt, with what retrying needs to know. */
class AttemptError extends Error {
  readonly failure: Failure;
  readonly error: LibsqlError;
  constructor(failure: Failure, error: LibsqlError) {
    super(error.message);
    this.failure = failure;
    this.error = error;
  }
}

/**
 * Sends HTTP requests: headers, the concurrency limit, the call's signal, and
 * repeats with backoff as `retry.ts` allows. Every failure comes out as a coded
 * `LibsqlError`, with secrets kept out of its message.
 */
export class HttpSender {
  readonly #options: SenderOptions;

  constructor(options: SenderOptions) {
    this.#options = options;
  }

  /**
   * Sends `spec` and hands the response to `read`, whose result is returned; a
   * response that `accept` refuses (by default, any but 2xx) becomes an error.
   * The concurrency slot is held until `read` settles; its failures count as
   * part of the attempt (a broken body may be retried, a bad one is not).
   */
  async send<T>(
    spec: HttpRequestSpec,
    repeatable: Repeatable,
    call: CallSignal,
    read: (response: Response) => Promise<T>,
    accept: (response: Response) => boolean = (response) => response.ok,
  ): Promise<T> {
    const { limiter, retry } = this.#options;
    for (let attempt = 0; ; attempt++) {
      let release: (() => void) | undefined;
      try {
        release = await call.race(limiter.acquire(call.signal));
        return await this.#attempt(spec, call, read, accept);
      } catch (e) {
        const aborted = call.error;
        if (aborted) throw aborted;
        if (!(e instanceof AttemptError)) throw e;
        if (attempt >= retry.retries || !shouldRetry(e.failure, repeatable)) throw e.error;
        release?.();
        release = undefined;
        await sleep(retryDelay(attempt, retry, e.failure), call.signal).catch(() => {
          throw call.error ?? e.error;
        });
      } finally {
        release?.();
      }
    }
  }

  async #attempt<T>(
    spec: HttpRequestSpec,
    call: CallSignal,
    read: (response: Response) => Promise<T>,
    accept: (response: Response) => boolean,
  ): Promise<T> {
    const { secrets } = this.#options;
    const request = this.#request(spec, call.signal);
    let response: Response;
    try {
      response = await call.race(this.#options.fetch(request));
    } catch (e) {
      if (call.error) throw call.error;
      const unsent = failedBeforeSending(e);
      const message = unsent
        ? `Could not reach the server: ${describe(e)}`
        : `The connection to the server failed, so the request may or may not have been processed: ${describe(e)}`;
      throw new AttemptError({ kind: unsent ? "unsent" : "network" }, networkError(message, e, secrets));
    }
    if (!accept(response)) {
      const error = await call.race(errorFromResponse(response, secrets));
      throw new AttemptError({ kind: "status", status: response.status, retryAfterMs: retryAfterMs(response) }, error);
    }
    try {
      return await call.race(read(response));
    } catch (e) {
      if (call.error) throw call.error;
      if (e instanceof LibsqlError) throw new AttemptError({ kind: "final" }, e);
      throw new AttemptError(
        { kind: "network" },
        networkError(`The server's response was cut off: ${describe(e)}`, e, secrets),
      );
    }
  }

  #request(spec: HttpRequestSpec, signal: AbortSignal): Request {
    const headers = new Headers();
    if (spec.method === "POST") headers.set("content-type", "application/json");
    if (spec.credentials ?? spec.method === "POST") {
      for (const [name, value] of Object.entries(this.#options.headers)) headers.set(name, value);
    }
    try {
      return new Request(spec.url, { method: spec.method, headers, body: spec.body, signal });
    } catch (e) {
      throw remoteError(RemoteErrorCode.NETWORK_ERROR, `Cannot build the request: ${describe(e)}`, e);
    }
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${message}${cause}`;
}

/** A `NETWORK_ERROR`; the cause's message is redacted too, since it becomes part of ours. */
function networkError(message: string, cause: unknown, secrets: readonly string[]): LibsqlError {
  return remoteError(RemoteErrorCode.NETWORK_ERROR, redact(message, secrets), cause);
}
