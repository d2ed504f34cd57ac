import type { LibsqlError } from "../errors.js";
import { joinUrl } from "../remote/endpoint.js";
import { errorFromResponse, RemoteErrorCode, redact, remoteError } from "../remote/remote-errors.js";
import { failedBeforeSending, retryDelay } from "../remote/retry.js";
import { ReplicaErrorCode, replicaError } from "./replica-errors.js";

/** A fetch as `Config.fetch` takes it. */
export type SyncFetch = (request: Request) => Promise<Response>;

/** Options of the sync protocol client. */
export interface SyncHttpOptions {
  /** Base URL (`https://…`, `libsql:` already resolved). */
  baseUrl: string;
  authToken: string | undefined;
  /** Sent as `x-turso-encryption-key`. */
  remoteEncryptionKey: string | undefined;
  fetch: SyncFetch | undefined;
  /** Longest one request may take with its retries, in ms. */
  timeoutMs: number | undefined;
  /** Repeats of a request that failed with a 5xx or a network error (libsql: 5). */
  retries?: number;
}

/** What a pull answered: frames, or the end of the generation's data. */
export type PullAnswer =
  | { kind: "frames"; bytes: Uint8Array }
  | { kind: "end"; generation: number; maxFrameNo: number | undefined };

/** Reports bytes received of a response and how many are expected (Content-Length). */
export type BytesProgress = (done: number, expected: number | undefined) => void;

const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);
/** Repeats after a network failure (the server may be down: the sync fails fast and the next one tries again). */
const NETWORK_RETRIES = 2;

/**
 * The HTTP sync protocol of embedded replicas (docs/protocols.md §3):
 * `GET /info`, `GET /export/{g}`, `GET /sync/{g}/{start}/{end}`. Every request
 * is a GET, so every failure that may be transient (a 5xx, 408, 429, a broken
 * connection) is repeated with backoff; every other failure is a coded
 * `LibsqlError` without the token in its message.
 */
export class SyncHttp {
  readonly #options: SyncHttpOptions;
  readonly #headers: Record<string, string> = {};
  readonly #secrets: string[] = [];
  readonly #closing = new AbortController();

  constructor(options: SyncHttpOptions) {
    this.#options = options;
    if (options.authToken !== undefined) {
      this.#headers.authorization = `Bearer ${options.authToken}`;
      this.#secrets.push(options.authToken);
    }
    if (options.remoteEncryptionKey !== undefined) {
      this.#headers["x-turso-encryption-key"] = options.remoteEncryptionKey;
      this.#secrets.push(options.remoteEncryptionKey);
    }
  }

  /** Aborts every request in flight and later. */
  close(): void {
    this.#closing.abort(replicaError(RemoteErrorCode.NETWORK_ERROR, "the replica was closed"));
  }

  /** `GET /info`: the primary's current generation. */
  async info(): Promise<number> {
    const body = await this.#get("info", undefined, async (response) => response.json() as Promise<unknown>);
    const generation = (body as { current_generation?: unknown } | null)?.current_generation;
    if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 1) {
      throw replicaError(ReplicaErrorCode.SYNC_PROTOCOL_ERROR, "the server's /info answer has no valid generation");
    }
    return generation;
  }

  /** `GET /export/{g}`: the database file that generation `g` starts from. */
  async export(generation: number, progress: BytesProgress): Promise<Uint8Array> {
    return this.#get(`export/${generation}`, undefined, (response) => readBytes(response, progress));
  }

  /** `GET /sync/{g}/{start}/{end}`: frames `[start, end)` of generation `g`, or the end of its data. */
  async pull(generation: number, start: number, end: number, progress: BytesProgress): Promise<PullAnswer> {
    return this.#get(
      `sync/${generation}/${start}/${end}`,
      async (response) => {
        // libsql reads any 400 or 500 as "no more frames" if its JSON names a generation (§3.5).
        if (response.status !== 400 && response.status !== 500) return undefined;
        const text = await response.text().catch(() => "");
        let body: { generation?: unknown; max_frame_no?: unknown } | undefined;
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          body = undefined;
        }
        const g = body?.generation;
        if (typeof g !== "number" || !Number.isSafeInteger(g) || g < 1) return undefined;
        const max = body?.max_frame_no;
        return { kind: "end", generation: g, maxFrameNo: typeof max === "number" ? max : undefined } as PullAnswer;
      },
      async (response) => ({ kind: "frames", bytes: await readBytes(response, progress) }) as PullAnswer,
    );
  }

  /**
   * GETs `path`; `special` may turn a non-2xx answer into a result (pull's end
   * of data); 2xx answers go to `read`. Repeats transient failures.
   */
  async #get<T>(
    path: string,
    special: ((response: Response) => Promise<T | undefined>) | undefined,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    const retries = this.#options.retries ?? 5;
    const timeout = this.#options.timeoutMs;
    const signal =
      timeout === undefined
        ? this.#closing.signal
        : AbortSignal.any([this.#closing.signal, AbortSignal.timeout(timeout)]);
    const url = joinUrl(this.#options.baseUrl, path);
    for (let attempt = 0; ; attempt++) {
      let transient: LibsqlError;
      let response: Response;
      try {
        const request = new Request(url, { method: "GET", headers: this.#headers, signal });
        const fetcher = this.#options.fetch ?? ((r: Request) => fetch(r));
        response = await fetcher(request);
      } catch (error) {
        if (signal.aborted) throw this.#aborted(signal);
        transient = remoteError(
          RemoteErrorCode.NETWORK_ERROR,
          redact(
            `${failedBeforeSending(error) ? "Could not reach the server" : "The connection to the server failed"}: ${describe(error)}`,
            this.#secrets,
          ),
          error,
        );
        // A broken connection is worth a quick second try; an unreachable server is not worth many.
        if (attempt >= Math.min(retries, NETWORK_RETRIES)) throw transient;
        await this.#sleep(attempt, signal);
        continue;
      }
      try {
        if (!response.ok) {
          const answer = special ? await special(response.clone()) : undefined;
          if (answer !== undefined) {
            await response.body?.cancel().catch(() => {});
            return answer;
          }
          const error = await errorFromResponse(response, this.#secrets);
          if (!TRANSIENT.has(response.status) || attempt >= retries) throw error;
          transient = error;
        } else {
          return await read(response);
        }
      } catch (error) {
        if (signal.aborted) throw this.#aborted(signal);
        if (
          (error as LibsqlError).code !== RemoteErrorCode.NETWORK_ERROR ||
          attempt >= Math.min(retries, NETWORK_RETRIES)
        ) {
          throw error;
        }
        transient = error as LibsqlError;
      }
      await this.#sleep(attempt, signal).catch(() => {
        throw transient;
      });
    }
  }

  async #sleep(attempt: number, signal: AbortSignal): Promise<void> {
    const ms = retryDelay(attempt, { retries: 0, baseDelayMs: 100, maxDelayMs: 5000 }, { kind: "network" });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", abort);
        resolve();
      }, ms);
      const abort = () => {
        clearTimeout(timer);
        reject(this.#aborted(signal));
      };
      signal.addEventListener("abort", abort, { once: true });
    });
  }

  #aborted(signal: AbortSignal): LibsqlError {
    if (this.#closing.signal.aborted) return this.#closing.signal.reason as LibsqlError;
    return remoteError(
      RemoteErrorCode.REQUEST_TIMEOUT,
      "the sync request took longer than remoteTimeout",
      signal.reason,
    );
  }
}

/** Reads a whole body, reporting progress; a body cut short is a `NETWORK_ERROR`. */
async function readBytes(response: Response, progress: BytesProgress): Promise<Uint8Array> {
  const header = response.headers.get("content-length");
  const expected = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  progress(0, expected);
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let done = 0;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      chunks.push(next.value);
      done += next.value.byteLength;
      progress(done, expected);
    }
  } catch (error) {
    throw remoteError(RemoteErrorCode.NETWORK_ERROR, `The server's response was cut off: ${describe(error)}`, error);
  }
  if (expected !== undefined && done !== expected) {
    throw remoteError(
      RemoteErrorCode.NETWORK_ERROR,
      `The server's response was cut off after ${done} of ${expected} bytes`,
    );
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${message}${cause}`;
}
