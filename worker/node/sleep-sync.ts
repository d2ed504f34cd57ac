const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms` milliseconds. SQLite's busy handler runs inside a
 * synchronous VFS call, so waiting for another process to release a lock has to
 * block; `Atomics.wait` on a cell nobody notifies does that without spinning.
 */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
}
