import { closeSync, fsyncSync, openSync } from "node:fs";

/** Errors with which platforms refuse to open or sync a directory: the change is as durable as they allow. */
const REFUSED = new Set(["EINVAL", "EPERM", "EISDIR", "EBADF", "ENOTSUP"]);

/**
 * Makes a directory entry change (a created, deleted or renamed file)
 * durable, as SQLite's unix VFS does. Platforms that cannot open or sync a
 * directory (Windows, some file systems) skip it; other errors are thrown.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!REFUSED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  } finally {
    closeSync(fd);
  }
}
