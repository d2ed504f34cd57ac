import type { CursorChunk } from "../proto.js";

/**
 * Cursors read one chunk ahead: as soon as a chunk reaches the page, the
 * next one is asked for, so that the worker reads it while the page turns
 * the current one into rows (the two threads overlap instead of taking
 * turns). Only cursors over one statement read ahead, and only while that
 * statement is still producing rows, so reading ahead never starts a
 * statement the caller did not reach; at most one chunk waits unread, so
 * memory stays flat.
 */
export class CursorReadAhead {
  /** Cursors that may read ahead, with the chunk asked for ahead (if any). */
  readonly #cursors = new Map<number, Promise<CursorChunk> | undefined>();

  /** A cursor was opened over `steps` statements. */
  opened(cursorId: number, steps: number): void {
    if (steps === 1) this.#cursors.set(cursorId, undefined);
  }

  /** The chunk asked for ahead of `cursorId`, which the caller now takes. */
  take(cursorId: number): Promise<CursorChunk> | undefined {
    const ahead = this.#cursors.get(cursorId);
    if (ahead) this.#cursors.set(cursorId, undefined);
    return ahead;
  }

  /**
   * A chunk of `cursorId` arrived (`done`: the cursor has nothing more;
   * `midStatement`: it stopped in the middle of its statement's rows): asks
   * for the next one with `fetch` when it should read ahead.
   */
  arrived(cursorId: number, done: boolean, midStatement: boolean, fetch: () => Promise<CursorChunk>): void {
    if (!this.#cursors.has(cursorId)) return;
    if (done) {
      this.#cursors.delete(cursorId);
      return;
    }
    if (!midStatement || this.#cursors.get(cursorId) !== undefined) return;
    const next = fetch();
    // Its failure reaches whoever takes it; until then it is not unhandled.
    next.catch(() => {});
    this.#cursors.set(cursorId, next);
  }

  /** The cursor closed: a chunk read ahead is dropped. */
  closed(cursorId: number): void {
    this.#cursors.delete(cursorId);
  }
}
