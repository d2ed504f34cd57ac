/**
 * A first-come, first-served readers-writer gate for async work. Offline
 * writes hold it shared; pushing and pulling hold it exclusively, because the
 * working copy's changes are only meaningful against the replicated database
 * they were made on.
 */
export class AsyncGate {
  #shared = 0;
  #exclusive = false;
  readonly #queue: { exclusive: boolean; enter: () => void }[] = [];

  /** Runs `body` while the gate is held shared. */
  async shared<T>(body: () => Promise<T>): Promise<T> {
    const release = await this.acquire(false);
    try {
      return await body();
    } finally {
      release();
    }
  }

  /** Runs `body` while the gate is held exclusively. */
  async exclusive<T>(body: () => Promise<T>): Promise<T> {
    const release = await this.acquire(true);
    try {
      return await body();
    } finally {
      release();
    }
  }

  /** Waits for the gate; resolves to the function that releases it (idempotent). */
  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      const enter = () => {
        if (exclusive) this.#exclusive = true;
        else this.#shared++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          if (exclusive) this.#exclusive = false;
          else this.#shared--;
          this.#drain();
        });
      };
      this.#queue.push({ exclusive, enter });
      this.#drain();
    });
  }

  #drain(): void {
    for (;;) {
      const head = this.#queue[0];
      if (!head || this.#exclusive) return;
      if (head.exclusive && this.#shared > 0) return;
      this.#queue.shift();
      head.enter();
      if (head.exclusive) return;
    }
  }
}
