import { sha256 } from "@noble/hashes/sha2.js";
import { LibsqlError } from "../../src/errors.js";
import { openHandle } from "../sqlite/open-handle.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import { installEncryptingVfs, prepareEncryptedHandle } from "../vfs/encrypting-vfs.js";
import { type RawFile, RawOpen, RawVfs } from "../vfs/raw-vfs-file.js";
import type { WrappingVfs } from "../vfs/wrapping-vfs.js";
import type { DatabaseCipher } from "./database-cipher.js";

const LOCK = { NONE: 0, SHARED: 1, RESERVED: 2, EXCLUSIVE: 4 } as const;
const SQLITE_BUSY = 5;
const FCNTL_RESERVE_BYTES = 38;
const MAIN_FLAGS = RawOpen.READWRITE | RawOpen.CREATE | RawOpen.MAIN_DB;
const SIDE_FLAGS = RawOpen.READWRITE | RawOpen.CREATE | RawOpen.TRANSIENT_DB;

/** The commit record: magic, format version, the new file's size, a checksum of those. */
const MARKER_MAGIC = new TextEncoder().encode("libsql-web rekey");
const MARKER_BYTES = 16 + 4 + 8 + 16;

let counter = 0;

/** Where a database file is, below SQLite. */
export interface DatabaseFileSite {
  /** The storage's VFS (the one the database is opened through when it is plain). */
  base: string;
  /** The database's name as the storage opens it (a path, or a name inside an OPFS pool). */
  file: string;
  /**
   * Take SQLite locks on the file while changing it (Node, where other
   * processes may open it); storages that own the file exclusively skip them.
   */
  lock: boolean;
  /** How long to wait for other connections to give the file up, in ms. */
  busyTimeoutMs: number;
}

/** Names of the files of a key change beside database `name`: the new file and the commit record. */
export function rekeyFileNames(name: string): { target: string; marker: string } {
  return { target: `${name}-rekey`, marker: `${name}-rekey-commit` };
}

/**
 * Finishes or discards a key change that a crash cut short, before SQLite
 * opens the database: with a valid commit record the new file is complete and
 * is copied over the database again (idempotent); without one the new file
 * is incomplete and is deleted. Costs two existence checks when there is
 * nothing to do.
 */
export async function recoverRekey(sqlite: Sqlite, site: DatabaseFileSite): Promise<void> {
  const raw = new RawVfs(sqlite, site.base);
  const name = raw.fullPathname(site.file);
  const { target, marker } = rekeyFileNames(name);
  if (!raw.present(marker) && !raw.present(target)) return;
  const main = await lockedMain(raw, name, site);
  try {
    finishOrDiscard(raw, name, main);
  } finally {
    release(main, site);
  }
}

/**
 * Re-encrypts a database file that nobody has open (`from` → `to`; null is a
 * plain file), crash-safely:
 *
 * 1. `VACUUM INTO` a new file beside it (`<name>-rekey`) through a VFS that
 *    encrypts with `to`, then sync it and check that it opens;
 * 2. write and sync a commit record (`<name>-rekey-commit`);
 * 3. copy the new file over the database, truncate, sync;
 * 4. delete the commit record, then the new file.
 *
 * A crash before 2 leaves the database as it was (the new file is deleted
 * at the next open); after 2, the next open redoes 3 and 4. A copy instead of
 * a rename works on every storage (opfs-sahpool has no rename: a file's name
 * is a header inside its slot) and, in Node, happens under the database's
 * EXCLUSIVE lock, so another process that has the file open sees it change
 * (and fails with a key error) instead of writing on into a replaced inode.
 */
export async function rekeyDatabaseFile(
  sqlite: Sqlite,
  site: DatabaseFileSite,
  change: { from: DatabaseCipher | null; to: DatabaseCipher | null; walToRollback?: boolean },
): Promise<void> {
  const raw = new RawVfs(sqlite, site.base);
  const name = raw.fullPathname(site.file);
  const { target } = rekeyFileNames(name);
  const main = await lockedMain(raw, name, site);
  const vfses: WrappingVfs[] = [];
  try {
    finishOrDiscard(raw, name, main);
    if (main) {
      // Readers may share the file while the new one is built; other writers wait.
      main.unlock(LOCK.SHARED);
      if (main.lock(LOCK.RESERVED) !== 0) throw busy();
    }
    const id = ++counter;
    const source = change.from
      ? installEncryptingVfs(sqlite, {
          name: `libsql-web-rekey-from-${id}`,
          base: site.base,
          cipher: change.from,
          walToRollback: change.walToRollback,
        })
      : null;
    if (source) vfses.push(source);
    const output = change.to
      ? installEncryptingVfs(sqlite, { name: `libsql-web-rekey-to-${id}`, base: site.base, cipher: change.to })
      : null;
    if (output) vfses.push(output);
    const outputVfs = output?.name ?? site.base;

    removeTarget(raw, target);
    const db = openHandle(sqlite, name, source?.name ?? site.base);
    try {
      if (change.from) prepareEncryptedHandle(sqlite, db, change.from);
      // VACUUM INTO keeps the larger of the source's wanted and current reserve: ask for the new format's.
      if (change.to && change.to.reserveBytes > 0)
        fileControlInt(sqlite, db, FCNTL_RESERVE_BYTES, change.to.reserveBytes);
      // Reads page 1 with the old key (and rolls back a hot journal) before anything is written.
      exec(sqlite, db, "SELECT count(*) FROM sqlite_schema");
      exec(sqlite, db, `VACUUM INTO ${sqlString(fileUri(target, outputVfs))}`);
    } finally {
      sqlite.x.sqlite3_close_v2(db);
    }
    const check = openHandle(sqlite, target, outputVfs);
    try {
      exec(sqlite, check, "SELECT count(*) FROM sqlite_schema");
    } finally {
      sqlite.x.sqlite3_close_v2(check);
    }
    if (main && main.lock(LOCK.EXCLUSIVE) !== 0) await raiseToExclusive(main, site.busyTimeoutMs);
    commit(raw, name, main);
  } finally {
    for (const vfs of vfses.reverse()) vfs.dispose();
    release(main, site);
  }
}

/** Steps 2-4: the commit record, the copy, the clean-up. */
function commit(raw: RawVfs, name: string, main: RawFile | null): void {
  const { target, marker } = rekeyFileNames(name);
  const file = raw.open(target, SIDE_FLAGS);
  let size: number;
  try {
    file.sync();
    size = file.size();
  } finally {
    file.close();
  }
  const record = raw.open(marker, SIDE_FLAGS);
  try {
    record.truncate(0);
    record.write(0, commitRecord(size));
    record.sync();
  } finally {
    record.close();
  }
  copyOver(raw, name, main, size);
  raw.delete(marker);
  removeTarget(raw, target);
}

/** Recovery: a committed change is copied again; an uncommitted one is thrown away. */
function finishOrDiscard(raw: RawVfs, name: string, main: RawFile | null): void {
  const { target, marker } = rekeyFileNames(name);
  const size = raw.present(marker) ? readMarker(raw, marker) : null;
  if (size !== null && raw.present(target)) copyOver(raw, name, main, size);
  raw.delete(marker);
  removeTarget(raw, target);
}

/**
 * Deletes the new file, its journal, and the lock file the Node VFS keeps
 * beside it while it is open (a process killed during the change leaves it
 * behind; the database's own lock keeps any other key change out, so it is stale).
 */
function removeTarget(raw: RawVfs, target: string): void {
  raw.delete(target);
  raw.delete(`${target}-journal`);
  raw.delete(`${target}.lock`);
}

/** Copies the new file (`<name>-rekey`, `size` bytes) over the database. */
function copyOver(raw: RawVfs, name: string, main: RawFile | null, size: number): void {
  const { target } = rekeyFileNames(name);
  // The old file's journal (never hot here: the old database was closed cleanly) must not meet the new file.
  raw.delete(`${name}-journal`);
  const from = raw.open(target, SIDE_FLAGS);
  const to = main ?? raw.open(name, MAIN_FLAGS);
  try {
    if (from.size() !== size)
      throw new LibsqlError("the re-encrypted copy of the database is incomplete", "SQLITE_CORRUPT");
    to.copyFrom(from, size);
    to.truncate(size);
    to.sync();
  } finally {
    from.close();
    if (to !== main) to.close();
  }
}

/** With `site.lock`: the database file opened raw and held EXCLUSIVE (others wait); else null. */
async function lockedMain(raw: RawVfs, name: string, site: DatabaseFileSite): Promise<RawFile | null> {
  if (!site.lock) return null;
  const main = raw.open(name, MAIN_FLAGS);
  try {
    const deadline = Date.now() + Math.max(0, site.busyTimeoutMs);
    for (;;) {
      const rc = main.lock(LOCK.SHARED);
      if (rc === 0) break;
      if (rc !== SQLITE_BUSY || Date.now() >= deadline) throw busy();
      await delay(10);
    }
    await raiseToExclusive(main, site.busyTimeoutMs);
    return main;
  } catch (error) {
    main.unlock(LOCK.NONE);
    main.close();
    throw error;
  }
}

async function raiseToExclusive(main: RawFile, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + Math.max(0, timeoutMs);
  for (;;) {
    const rc = main.lock(LOCK.EXCLUSIVE);
    if (rc === 0) return;
    if (rc !== SQLITE_BUSY || Date.now() >= deadline) throw busy();
    await delay(10);
  }
}

function release(main: RawFile | null, site: DatabaseFileSite): void {
  if (!main || !site.lock) return;
  try {
    main.unlock(LOCK.NONE);
  } finally {
    main.close();
  }
}

function busy(): LibsqlError {
  return new LibsqlError(
    "the database is in use by another connection or process; a key change needs it to itself",
    "SQLITE_BUSY",
    "SQLITE_BUSY",
    SQLITE_BUSY,
  );
}

/**
 * A commit record for a new file of `size` bytes: the magic, format version
 * 1, the size (big-endian 64-bit) and the first 16 bytes of SHA-256 over
 * those, so a record cut short by a crash is never taken for one.
 */
export function commitRecord(size: number): Uint8Array {
  const bytes = new Uint8Array(MARKER_BYTES);
  bytes.set(MARKER_MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, 1);
  view.setBigUint64(20, BigInt(size));
  bytes.set(sha256(bytes.subarray(0, 28)).subarray(0, 16), 28);
  return bytes;
}

/** The new file's size from a commit record, or null if the record is not complete and valid. */
function readMarker(raw: RawVfs, marker: string): number | null {
  const file = raw.open(marker, SIDE_FLAGS);
  try {
    const bytes = new Uint8Array(MARKER_BYTES);
    if (file.read(0, bytes) !== MARKER_BYTES) return null;
    const sum = sha256(bytes.subarray(0, 28));
    for (let i = 0; i < 16; i++) if (bytes[i] !== MARKER_MAGIC[i] || bytes[28 + i] !== sum[i]) return null;
    const view = new DataView(bytes.buffer);
    if (view.getUint32(16) !== 1) return null;
    return Number(view.getBigUint64(20));
  } finally {
    file.close();
  }
}

/** A `file:` URI for `path` on VFS `vfs` (SQLite decodes %HH; `?` and `#` would end the path). */
function fileUri(path: string, vfs: string): string {
  const escaped = path.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return `file:${escaped.startsWith("/") ? "" : "/"}${escaped}?vfs=${encodeURIComponent(vfs)}`;
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function exec(sqlite: Sqlite, db: number, sql: string): void {
  sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
}

function fileControlInt(sqlite: Sqlite, db: number, op: number, value: number): void {
  const arg = sqlite.malloc(8);
  const main = sqlite.encodeOwned("main");
  try {
    sqlite.i32[arg >> 2] = value;
    sqlite.check(db, sqlite.x.sqlite3_file_control(db, main, op, arg));
  } finally {
    sqlite.x.sqlite3_free(main);
    sqlite.x.sqlite3_free(arg);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
