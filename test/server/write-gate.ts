/**
 * Where a statement that met SQLITE_BUSY waits for another stream's write transaction to
 * end, without blocking the event loop.
 *
 * Why: every stream is its own native connection in this one process, so SQLite's
 * `busy_timeout` would sleep inside the native call and freeze the server (including the
 * request that would have ended the other transaction). Connections therefore run with no
 * busy timeout, and the executor retries a statement that failed with plain SQLITE_BUSY
 * after `wait()` — woken as soon as any stream finishes a request or is dropped, or after
 * a short poll for writers the server does not see (a test writing through `server.db`).
 * Past the caller's deadline the statement fails with SQLITE_BUSY, as sqld's connection
 * manager does after its transaction timeout.
 */
export class WriteGate {
  readonly #pollMs: number;
  readonly #beforeWait: () => void;
  #waiters = new Set<() => void>();

  /** `beforeWait` runs first on every wait (the server expires idle streams there). */
  constructor(pollMs: number, beforeWait: () => void) {
    this.#pollMs = pollMs;
    this.#beforeWait = beforeWait;
  }

  /** Wakes every waiter: a transaction may have ended. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next `notify()`, after the poll interval, or at `deadline`, whichever is first. */
  wait(deadline: number): Promise<void> {
    this.#beforeWait();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, Math.min(this.#pollMs, deadline - Date.now())));
      this.#waiters.add(wake);
    });
  }
}
