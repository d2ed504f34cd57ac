/**
 * Runs operations on the same key one after another (opening, releasing,
 * importing and deleting one database must not overlap); different keys run
 * concurrently.
 */
export class PathQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `operation` after every earlier operation on `key` has settled. */
  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
