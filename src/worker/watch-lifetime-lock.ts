/**
 * Calls `onEnd` once the Web Lock `name`, which a worker holds for its whole
 * life, becomes free: the worker ended (terminated, crashed or closed),
 * whoever ended it. Returns a function that stops watching.
 */
export function watchLifetimeLock(name: string, onEnd: () => void): () => void {
  const controller = new AbortController();
  navigator.locks
    .request(name, { signal: controller.signal }, () => {
      onEnd();
    })
    .catch(() => {
      // Aborted: nobody watches any more.
    });
  return () => controller.abort();
}
