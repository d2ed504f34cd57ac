/** A Web Lock held until `release()`. */
export interface HeldLock {
  release(): void;
}

/**
 * Requests the Web Lock `name` and keeps it until `release()`. Resolves with
 * null when it is still held elsewhere after `timeoutMs` (0: only if free now;
 * below 0: wait as long as it takes). The lock also ends with this worker.
 */
export function acquireLock(name: string, options: { mode?: LockMode; timeoutMs: number }): Promise<HeldLock | null> {
  const { mode = "exclusive", timeoutMs } = options;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return new Promise<HeldLock | null>((resolve, reject) => {
    const granted = (lock: Lock | null): Promise<void> | undefined => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      resolve({ release });
      return held;
    };
    const request =
      timeoutMs === 0
        ? navigator.locks.request(name, { mode, ifAvailable: true }, granted)
        : navigator.locks.request(
            name,
            timeoutMs > 0 ? { mode, signal: AbortSignal.timeout(timeoutMs) } : { mode },
            granted,
          );
    request.catch((error: unknown) => {
      const name = (error as { name?: string } | null)?.name;
      if (name === "TimeoutError" || name === "AbortError") resolve(null);
      else reject(error);
    });
  });
}

/** True where Web Locks exist (secure contexts). */
export function hasWebLocks(): boolean {
  return typeof navigator !== "undefined" && navigator.locks !== undefined;
}
