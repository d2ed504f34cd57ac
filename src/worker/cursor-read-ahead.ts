/** Chunks asked for ahead of the caller, at most. */
const DEPTH = 3;

interface Ahead<Chunk> {
  /** Chunks asked for ahead and not yet taken, in order. */
  queue: Promise<Chunk>[];
  /** Chunks asked for (by the caller or ahead) that have not arrived yet. */
  inFlight: number;
  /** Asks for the next chunk; set once a chunk arrived in the middle of the statement's rows. */
  fetch: (() => Promise<Chunk>) | undefined;
  /** The last chunk arrived: nothing more is asked for, and the entry goes once its queue is taken. */
  done: boolean;
}

/**
 * Cursors read ahead: while a cursor's statement is still producing rows,
 * up to `DEPTH` chunks are asked for beyond the one the caller waits for, so
 * that the worker always has the next request queued and reads on while the
 * page turns earlier chunks into rows (the two threads overlap instead of
 * taking turns; with one chunk ahead the worker sat idle for a fifth of a
 * 1M-row stream). Only cursors over one statement read ahead, and only while
 * that statement is still producing rows, so reading ahead never starts a
 * statement the caller did not reach; at most `DEPTH` chunks wait unread, so
 * memory stays flat. Chunks already asked for stay queued until taken, even
 * once the last one arrived. Requests that reach the worker after the last
 * chunk fail there (the cursor is gone) and are dropped here unseen.
 * `Chunk` is whatever the worker answers; the page keeps chunks as they
 * came (typed arrays, outside the JavaScript heap) until they are taken.
 */
export class CursorReadAhead<Chunk> {
  readonly #cursors = new Map<number, Ahead<Chunk>>();

  /** A cursor was opened over `steps` statements. */
  opened(cursorId: number, steps: number): void {
    if (steps === 1) this.#cursors.set(cursorId, { queue: [], inFlight: 0, fetch: undefined, done: false });
  }

  /**
   * The next chunk asked for ahead of `cursorId`, which the caller now
   * takes; none when nothing is queued (then the caller asks itself, before
   * anything more is asked for ahead, so that chunks stay in order).
   */
  take(cursorId: number): Promise<Chunk> | undefined {
    const ahead = this.#cursors.get(cursorId);
    const next = ahead?.queue.shift();
    if (!ahead || next === undefined) return undefined;
    if (ahead.done && ahead.queue.length === 0) this.#cursors.delete(cursorId);
    else this.#fill(ahead);
    return next;
  }

  /** The caller asked for a chunk of `cursorId` itself (nothing was waiting). */
  asked(cursorId: number): void {
    const ahead = this.#cursors.get(cursorId);
    if (ahead) ahead.inFlight++;
  }

  /**
   * A chunk of `cursorId` arrived (`done`: the cursor has nothing more;
   * `midStatement`: it stopped in the middle of its statement's rows): asks
   * for more with `fetch` while it should read ahead.
   */
  arrived(cursorId: number, done: boolean, midStatement: boolean, fetch: () => Promise<Chunk>): void {
    const ahead = this.#cursors.get(cursorId);
    if (!ahead) return;
    ahead.inFlight--;
    // Chunks can arrive out of order (some answers come through the shared lane): one that arrives after the
    // last changes nothing, and the chunks still queued stay for the caller.
    if (ahead.done) return;
    if (done) {
      ahead.done = true;
      ahead.fetch = undefined;
      if (ahead.queue.length === 0) this.#cursors.delete(cursorId);
      return;
    }
    ahead.fetch = midStatement ? fetch : undefined;
    this.#fill(ahead);
  }

  #fill(ahead: Ahead<Chunk>): void {
    const fetch = ahead.fetch;
    if (!fetch) return;
    while (ahead.queue.length < DEPTH && ahead.inFlight < DEPTH) {
      const next = fetch();
      // Its failure reaches whoever takes it; until then it is not unhandled.
      next.catch(() => {});
      ahead.queue.push(next);
      ahead.inFlight++;
    }
  }

  /** The cursor closed: chunks read ahead are dropped. */
  closed(cursorId: number): void {
    this.#cursors.delete(cursorId);
  }
}
