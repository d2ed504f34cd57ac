/**
 * Fault injection for the client's edge-case tests. Every fault applies to requests that
 * arrive after it was set; CORS preflights are never affected.
 */

/** Which requests a fault applies to: all, or those whose path equals or matches this. */
export type PathFilter = string | RegExp | undefined;

function matches(filter: PathFilter, path: string): boolean {
  if (filter === undefined) return true;
  return typeof filter === "string" ? filter === path : filter.test(path);
}

interface CountedFault {
  remaining: number;
  path: PathFilter;
}

/** The fault hooks of a test server. */
export class Faults {
  readonly #expireAll: () => void;
  #failures: (CountedFault & { status: number })[] = [];
  #delays: (CountedFault & { ms: number })[] = [];
  #cursorCuts: number[] = [];

  constructor(expireAll: () => void) {
    this.#expireAll = expireAll;
  }

  /**
   * The next `count` requests (optionally only those on `path`) answer `status` (500 by
   * default) with sqld's internal-error body `{"error":"Internal Error: injected fault"}`,
   * without touching the database or any stream.
   */
  failNext(count: number, options: { status?: number; path?: PathFilter } = {}): void {
    this.#failures.push({ remaining: count, status: options.status ?? 500, path: options.path });
  }

  /**
   * Holds the next `count` requests (all later ones when `count` is omitted) for `ms`
   * before handling them: a slow server. `delay(0)` clears every delay.
   */
  delay(ms: number, options: { count?: number; path?: PathFilter } = {}): void {
    if (ms <= 0) {
      this.#delays = [];
      return;
    }
    this.#delays.push({ ms, remaining: options.count ?? Number.POSITIVE_INFINITY, path: options.path });
  }

  /**
   * The next `/v3/cursor` response is cut after `entries` cursor entries (the first line,
   * with the baton, does not count): the socket is destroyed mid-body.
   */
  cutNextCursor(entries: number): void {
    this.#cursorCuts.push(entries);
  }

  /** Expires every idle stream now: their batons answer STREAM_EXPIRED. */
  expireAllStreams(): void {
    this.#expireAll();
  }

  /** Clears every pending fault. */
  reset(): void {
    this.#failures = [];
    this.#delays = [];
    this.#cursorCuts = [];
  }

  /** The status to fail a request on `path` with, if a failure is pending for it. */
  takeFailure(path: string): number | undefined {
    const fault = take(this.#failures, path);
    return fault?.status;
  }

  /** How long to hold a request on `path`. */
  takeDelay(path: string): number {
    return take(this.#delays, path)?.ms ?? 0;
  }

  /** The entry count after which to cut this cursor response, if any. */
  takeCursorCut(): number | undefined {
    return this.#cursorCuts.shift();
  }
}

function take<T extends CountedFault>(faults: T[], path: string): T | undefined {
  const index = faults.findIndex((f) => matches(f.path, path));
  const fault = faults[index];
  if (!fault) return undefined;
  fault.remaining--;
  if (fault.remaining <= 0) faults.splice(index, 1);
  return fault;
}
