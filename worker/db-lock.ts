import { LibsqlError } from "../src/errors.js";

interface Waiter<T> {
  owner: T;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * A FIFO lock over one database's SQLite handle. A connection holds it for one
 * call, or for as long as its transaction stays open; the others queue in
 * arrival order. Waiting longer than the caller's timeout fails with
 * `SQLITE_BUSY`, as SQLite's own busy timeout would, instead of hanging when a
 * program waits on its own open transaction.
 */
export class DbLock<T> {
  #holder: T | null = null;
  readonly #queue: Waiter<T>[] = [];

  /** The connection holding the lock, if any. */
  get holder(): T | null {
    return this.#holder;
  }

  /** Takes the lock if it is free and nobody queues; true on success. */
  tryAcquire(owner: T): boolean {
    if (this.#holder === owner) return true;
    if (this.#holder !== null || this.#queue.length > 0) return false;
    this.#holder = owner;
    return true;
  }

  /** Waits for the lock; rejects with SQLITE_BUSY after `timeoutMs` (no limit when < 0). */
  acquire(owner: T, timeoutMs: number): Promise<void> {
    if (this.tryAcquire(owner)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = { owner, resolve, reject, timer: undefined };
      if (timeoutMs >= 0) {
        waiter.timer = setTimeout(() => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(
            new LibsqlError(
              `database is locked: another connection's transaction held it for more than ${timeoutMs} ms`,
              "SQLITE_BUSY",
              "SQLITE_BUSY",
              5,
            ),
          );
        }, timeoutMs);
      }
      this.#queue.push(waiter);
    });
  }

  /** Releases the lock if `owner` holds it, handing it to the next waiter. */
  release(owner: T): void {
    if (this.#holder !== owner) return;
    const next = this.#queue.shift();
    this.#holder = next ? next.owner : null;
    if (next) {
      if (next.timer !== undefined) clearTimeout(next.timer);
      next.resolve();
    }
  }

  /** Drops every waiter of `owner` (its connection closed), rejecting them with `error`. */
  cancel(owner: T, error: Error): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const waiter = this.#queue[i] as Waiter<T>;
      if (waiter.owner !== owner) continue;
      this.#queue.splice(i, 1);
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
