/**
 * When a failed HTTP request is sent again. The rule:
 *
 * - A request that never left the client (connection refused, host not found,
 *   connect timeout) is always repeated: the server cannot have seen it.
 * - A request that may have reached the server (a 5xx/408/429 answer, a
 *   connection that broke afterwards) is repeated only if it is **safe**:
 *   running it twice changes nothing. Safe are the version probe, and requests
 *   that open a fresh stream, close it in the same request, and only describe or
 *   read (`isReadOnlySql`); a read-only cursor on a fresh stream until its first
 *   entry arrived. Everything on an existing stream (a baton) is not: the server
 *   may already have moved the stream on.
 * - Never repeated: other 4xx answers (401, 403, 400 bad baton, 404), a timeout
 *   or an abort, an answer the client cannot read.
 */
export type Repeatable = "safe" | "unsent-only";

/** How many times and how patiently to repeat. */
export interface RetryPolicy {
  /** Repeats after the first attempt (default 3). */
  retries: number;
  /** First delay; each later one doubles (default 100 ms), with jitter. */
  baseDelayMs: number;
  /** Longest delay, including one asked for by `Retry-After` (default 5 s). */
  maxDelayMs: number;
}

/** The default policy. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 5000 };

/** Statuses that say "try again later" without saying that nothing happened. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** How an attempt failed, as far as retrying cares. */
export type Failure =
  | { kind: "unsent" }
  | { kind: "network" }
  | { kind: "status"; status: number; retryAfterMs: number | undefined }
  | { kind: "final" };

/** Whether to try again after `failure`. */
export function shouldRetry(failure: Failure, repeatable: Repeatable): boolean {
  switch (failure.kind) {
    case "unsent":
      return true;
    case "network":
      return repeatable === "safe";
    case "status":
      return repeatable === "safe" && TRANSIENT_STATUSES.has(failure.status);
    case "final":
      return false;
  }
}

/** The delay before attempt `attempt + 1` (attempt 0 is the first repeat). */
export function retryDelay(attempt: number, policy: RetryPolicy, failure: Failure): number {
  const exponential = policy.baseDelayMs * 2 ** attempt;
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  const asked = failure.kind === "status" ? (failure.retryAfterMs ?? 0) : 0;
  return Math.min(policy.maxDelayMs, Math.max(jittered, asked));
}

// Error codes (Node/undici) of failures that happen before a request is written.
const UNSENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * True when a fetch rejection certainly happened before the request was sent.
 * Only Node says so (through `cause.code`); elsewhere a network error counts as
 * possibly sent.
 */
export function failedBeforeSending(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNSENT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** `Retry-After` in milliseconds (seconds form only), if the response has one. */
export function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** Waits `ms`; rejects with the signal's reason if it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const done = () => {
      signal.removeEventListener("abort", aborted);
      resolve();
    };
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
