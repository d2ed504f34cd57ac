/**
 * At most `limit` holders at a time, served in arrival order: `config.concurrency`
 * bounds the HTTP requests a client has in flight, as in `@libsql/client`.
 */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /**
   * Waits for a slot; the returned function gives it back (once). When `signal`
   * aborts first, stops waiting and rejects with its reason.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#active < this.#limit) {
      this.#active++;
    } else {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const granted = () => {
          signal?.removeEventListener("abort", aborted);
          resolve();
        };
        const aborted = () => {
          const at = this.#waiting.indexOf(granted);
          if (at >= 0) this.#waiting.splice(at, 1);
          reject(signal?.reason);
        };
        this.#waiting.push(granted);
        signal?.addEventListener("abort", aborted, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so #active stays counted.
      if (next) next();
      else this.#active--;
    };
  }
}
