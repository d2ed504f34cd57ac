import { closeSync, openSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { LibsqlError } from "../../src/errors.js";
import { PathQueue } from "../browser/path-queue.js";
import { type DatabaseCipher, refuseEncryptedWithoutKey } from "../crypto/database-cipher.js";
import { recoverRekey, rekeyDatabaseFile, rekeyFileNames } from "../crypto/rekey-database-file.js";
import { sweepOwnerFiles } from "../node/dot-lock.js";
import { installNodeFileVfs } from "../node/node-file-vfs.js";
import { openHandle } from "../sqlite/open-handle.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import { installEncryptingVfs, prepareEncryptedHandle } from "../vfs/encrypting-vfs.js";
import type { WrappingVfs } from "../vfs/wrapping-vfs.js";
import type { StorageBackend, StorageOptions } from "./storage-backend.js";

/** How long SQLite retries, in ms, when another process holds the file's lock, unless the request says. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** SQLite's busy timeout has no "forever"; this is about 25 days. */
const LONGEST_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

/** Encrypting VFSes of open encrypted databases, by file; each engine (wasm instance) has its own. */
const encryptingVfses = new Map<string, Set<WrappingVfs>>();
const queue = new PathQueue();
let vfsCounter = 0;

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
 * An encrypted database (`options.encryption`) opens through an encrypting VFS
 * of its own over the `node:fs` one, in native libSQL's file format or the
 * authenticated one; it never uses WAL (one left in WAL mode opens once its
 * WAL file has no frames left).
 *
 * SQLite's busy timeout (how long a statement waits for another process's
 * lock) is set from the first open's `busyTimeoutMs`, as the handle is shared.
 */
export const nodeFileStorage: StorageBackend = {
  key: (path: string) => resolve(path),
  open: (sqlite: Sqlite, path: string, options?: StorageOptions) => {
    const file = resolve(path);
    return queue.run(file, async () => {
      const vfs = installNodeFileVfs(sqlite);
      const timeoutMs = busyTimeout(options?.busyTimeoutMs);
      await recoverRekey(sqlite, { base: vfs, file, lock: true, busyTimeoutMs: timeoutMs });
      // A process killed while it locked the new file of a key change may have left an owner file of that lock.
      sweepOwnerFiles(`${rekeyFileNames(file).target}.lock`);
      const head = readHead(file);
      const wal = head !== null && (head[18] === 2 || head[19] === 2);
      const cipher = options?.encryption;
      if (cipher) return openEncrypted(sqlite, file, vfs, cipher, wal, timeoutMs);
      if (head !== null) refuseEncryptedWithoutKey(head);
      const db = openHandle(sqlite, file, vfs);
      try {
        if (wal) exec(sqlite, db, "PRAGMA locking_mode=EXCLUSIVE");
        else if (isEmpty(file)) exec(sqlite, db, "PRAGMA page_size=4096");
        sqlite.x.sqlite3_busy_timeout(db, timeoutMs);
        return db;
      } catch (error) {
        sqlite.x.sqlite3_close_v2(db);
        throw error;
      }
    });
  },
  release: (path: string) => {
    const file = resolve(path);
    return queue.run(file, async () => {
      // The engine closed its handle; a VFS with files still open belongs to another engine's handle.
      const vfses = encryptingVfses.get(file);
      for (const vfs of vfses ?? []) {
        if (vfs.openFiles > 0) continue;
        vfs.dispose();
        vfses?.delete(vfs);
      }
      if (vfses?.size === 0) encryptingVfses.delete(file);
    });
  },
  rekeyDatabase: (sqlite: Sqlite, path: string, to: DatabaseCipher | null, options?: StorageOptions) => {
    const file = resolve(path);
    return queue.run(file, async () => {
      const vfs = installNodeFileVfs(sqlite);
      const head = readHead(file);
      if (head === null) {
        throw new LibsqlError(`there is no database at ${JSON.stringify(path)} to re-encrypt`, "SQLITE_CANTOPEN");
      }
      const from = options?.encryption ?? null;
      if (!from) refuseEncryptedWithoutKey(head);
      const wal = head[18] === 2 || head[19] === 2;
      if (wal && (!from || walHasFrames(file))) throw walInUse();
      const busyTimeoutMs = busyTimeout(options?.busyTimeoutMs);
      await rekeyDatabaseFile(sqlite, { base: vfs, file, lock: true, busyTimeoutMs }, { from, to, walToRollback: wal });
    });
  },
};

function openEncrypted(
  sqlite: Sqlite,
  file: string,
  base: string,
  cipher: DatabaseCipher,
  wal: boolean,
  timeoutMs: number,
): number {
  if (wal && walHasFrames(file)) throw walInUse();
  const vfs = installEncryptingVfs(sqlite, {
    name: `${base}-encrypted-${++vfsCounter}`,
    base,
    cipher,
    walToRollback: wal,
  });
  let db = 0;
  try {
    sqlite.clearVfsError();
    db = openHandle(sqlite, file, vfs.name);
    if (isEmpty(file)) exec(sqlite, db, "PRAGMA page_size=4096");
    prepareEncryptedHandle(sqlite, db, cipher);
    sqlite.x.sqlite3_busy_timeout(db, timeoutMs);
  } catch (error) {
    if (db) sqlite.x.sqlite3_close_v2(db);
    vfs.dispose();
    throw error;
  }
  const vfses = encryptingVfses.get(file) ?? new Set<WrappingVfs>();
  vfses.add(vfs);
  encryptingVfses.set(file, vfses);
  return db;
}

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

/**
 * The first 100 bytes of the file, or null when it does not exist or is
 * shorter. Bytes 16..23 (page size, file format versions) are clear in plain
 * and in encrypted files alike.
 */
function readHead(file: string): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const head = new Uint8Array(100);
    return readSync(fd, head, 0, 100, 0) === 100 ? head : null;
  } finally {
    closeSync(fd);
  }
}

/** True when a WAL file beside the database holds anything (frames not yet checkpointed into it). */
function walHasFrames(file: string): boolean {
  try {
    return statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}

function walInUse(): LibsqlError {
  return new LibsqlError(
    "the database was left in WAL mode with changes still in its WAL file, and an encrypted database cannot use WAL: " +
      "checkpoint it where it was written (PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE), then open it again",
    "SQLITE_CANTOPEN",
    "SQLITE_CANTOPEN",
    14,
  );
}
