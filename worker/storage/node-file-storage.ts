import { closeSync, openSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { installNodeFileVfs } from "../node/node-file-vfs.js";
import { openHandle } from "../sqlite/open-handle.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import type { StorageBackend } from "./storage-backend.js";

/** How long SQLite retries, in ms, when another process holds the file's lock, unless the request says. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** SQLite's busy timeout has no "forever"; this is about 25 days. */
const LONGEST_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * `file:` databases in Node: real files on disk through the `node:fs` VFS,
 * with locking between processes. New databases get 4096-byte pages (native
 * libSQL's default, which replicas need) instead of this build's 8192.
 *
 * A database another program left in WAL mode opens in exclusive locking mode:
 * the VFS has no shared-memory methods, and SQLite then keeps the WAL index in
 * the heap. The price is that this handle keeps the file locked, against other
 * processes and engines, until it is closed.
 *
 * SQLite's busy timeout (how long a statement waits for another process's
 * lock) is set from the first open's `busyTimeoutMs`, as the handle is shared.
 */
export const nodeFileStorage: StorageBackend = {
  key: (path: string) => resolve(path),
  open: async (sqlite: Sqlite, path: string, options?: { busyTimeoutMs?: number | undefined }) => {
    const file = resolve(path);
    const vfs = installNodeFileVfs(sqlite);
    const wal = inWalMode(file);
    const db = openHandle(sqlite, file, vfs);
    try {
      if (wal) exec(sqlite, db, "PRAGMA locking_mode=EXCLUSIVE");
      else if (isEmpty(file)) exec(sqlite, db, "PRAGMA page_size=4096");
      sqlite.x.sqlite3_busy_timeout(db, busyTimeout(options?.busyTimeoutMs));
      return db;
    } catch (error) {
      sqlite.x.sqlite3_close_v2(db);
      throw error;
    }
  },
};

/** SQLite's busy timeout for a request's `busyTimeoutMs` (< 0: no limit). */
function busyTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_BUSY_TIMEOUT_MS;
  return ms < 0 ? LONGEST_BUSY_TIMEOUT_MS : Math.min(ms, LONGEST_BUSY_TIMEOUT_MS);
}

function exec(sqlite: Sqlite, db: number, sql: string): void {
  sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
}

/** True for a database file with no page yet (just created, or created empty elsewhere). */
function isEmpty(file: string): boolean {
  try {
    return statSync(file).size === 0;
  } catch {
    // SQLite has just opened it; if it cannot be stat'ed now, leave the page size alone.
    return false;
  }
}

/** True when the file's header says WAL (file format versions at offsets 18 and 19 are 2). */
function inWalMode(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return false;
  }
  try {
    const header = new Uint8Array(20);
    return readSync(fd, header, 0, 20, 0) === 20 && (header[18] === 2 || header[19] === 2);
  } finally {
    closeSync(fd);
  }
}
