import { ErrorCode, LibsqlError } from "../../src/errors.js";

/** A `STORAGE_BUSY` error. */
export function storageBusy(message: string, cause?: unknown): LibsqlError {
  return new LibsqlError(message, ErrorCode.STORAGE_BUSY, undefined, undefined, cause);
}

/** A `STORAGE_UNAVAILABLE` error. */
export function storageUnavailable(message: string, cause?: unknown): LibsqlError {
  return new LibsqlError(message, ErrorCode.STORAGE_UNAVAILABLE, undefined, undefined, cause);
}

/** Throws `STORAGE_UNAVAILABLE` unless this worker has OPFS with synchronous access handles and Web Locks. */
export function requireOpfs(storage: string): void {
  const storageManager = (globalThis.navigator as WorkerNavigator | undefined)?.storage;
  if (typeof storageManager?.getDirectory !== "function") {
    throw storageUnavailable(`storage "${storage}" needs the Origin Private File System, which is not available here`);
  }
  if (typeof globalThis.FileSystemFileHandle?.prototype.createSyncAccessHandle !== "function") {
    throw storageUnavailable(
      `storage "${storage}" needs synchronous OPFS access handles (a dedicated worker in a current browser)`,
    );
  }
  if (globalThis.navigator.locks === undefined) {
    throw storageUnavailable(`storage "${storage}" needs Web Locks (a secure context: https or localhost)`);
  }
}

/** The DOMException name of `error`, if it has one. */
export function errorName(error: unknown): string | undefined {
  return (error as { name?: unknown } | null)?.name as string | undefined;
}
