import type { ReplicaApplied } from "../../src/proto.js";
import { ReplicaErrorCode, replicaError } from "../../src/replica/replica-errors.js";
import type { Database } from "../database.js";
import { checkDatabaseBytes } from "../storage/database-bytes.js";
import { type FrameSet, mergeFrames, PAGE_SIZE } from "./frame-set.js";
import { MainFile } from "./main-file.js";

const UPDATE_PAGE = "UPDATE sqlite_dbpage SET data = ?1 WHERE pgno = ?2";
/** Bytes written through the file per call when writing many pages (over 64 KiB: never taken for one page). */
const CHUNK = 4 * 1024 * 1024;
/** The largest page SQLite has. */
const MAX_PAGE = 65536;

/**
 * Applies the complete server transactions at the start of `frames` to the
 * database, atomically: after a crash at any point the database is as before
 * them or as after all of them. Returns how many frames that was (a trailing
 * transaction without its commit frame is left for the caller to send again
 * with the rest of it).
 *
 * This build's `sqlite_dbpage` refuses INSERT and ignores an UPDATE of a page
 * past the end, so (as probed, see DESIGN.md "Replica"):
 * 1. pages past the current end are written straight into the file, where
 *    SQLite ignores them until page 1 says the database is that large;
 * 2. the other pages are UPDATEd through `sqlite_dbpage` in one transaction,
 *    page 1 last, with its file format bytes set from WAL (2) to rollback (1);
 * 3. the page cache is reset after COMMIT (the connection would otherwise keep
 *    serving old rows), and the file is cut to size after a shrink.
 * A database with no page yet takes the pages as a whole image instead.
 */
export function applyFrames(db: Database, frames: Uint8Array): ReplicaApplied {
  const current = pageCount(db);
  const set = mergeFrames(frames, current);
  if (set.frames === 0) return { frames: 0, pages: 0, pageCount: current };
  const file = new MainFile(db.sqlite, db.ptr);
  file.withNormalLocking(() => {
    if (current === 0) {
      if (!set.pages.has(1)) {
        throw replicaError(
          ReplicaErrorCode.REPLICA_STATE_INVALID,
          "the local database is empty but the frames do not start it: bootstrap it again",
        );
      }
      writePages(file, set.size, (n) => set.pages.get(n));
    } else {
      applyOnTop(db, file, set, current);
    }
  });
  return { frames: set.frames, pages: set.pages.size, pageCount: set.size };
}

/**
 * Replaces the database with `image` (a database file of 4096-byte pages, as
 * `/export/{g}` returns it; empty for no database): page 1 goes last, so that
 * a crash leaves either the complete image or a file SQLite does not take for
 * a database, which the replica recognises and writes again. The pages go
 * through the database's VFS, so an encrypted database stores them encrypted.
 */
export function writeImage(db: Database, image: Uint8Array): void {
  checkDatabaseBytes(image);
  if (image.byteLength > 0 && ((image[16] as number) << 8) + (image[17] as number) !== PAGE_SIZE) {
    throw new RangeError("a replica's database must have 4096-byte pages");
  }
  // A hot journal left by an earlier crash must be rolled back now, not over the new image.
  pageCount(db);
  const file = new MainFile(db.sqlite, db.ptr);
  const n = image.byteLength / PAGE_SIZE;
  file.withNormalLocking(() => writePages(file, n, (p) => image.subarray((p - 1) * PAGE_SIZE, p * PAGE_SIZE)));
}

/** The database's size in pages; 0 for an empty file or one that is not (yet) a database. */
function pageCount(db: Database): number {
  try {
    const result = db.statement("PRAGMA page_count").run(undefined, "number");
    return Number(result.rows[0]?.[0] ?? 0);
  } catch {
    return 0;
  }
}

/** Steps 1-3 of `applyFrames` for a database of `current` pages. */
function applyOnTop(db: Database, file: MainFile, set: FrameSet, current: number): void {
  if (set.size > current) {
    const grown = new Uint8Array((set.size - current) * PAGE_SIZE);
    for (let p = current + 1; p <= set.size; p++) {
      const page = set.pages.get(p);
      if (page) grown.set(page, (p - current - 1) * PAGE_SIZE);
    }
    writeChunks(file, grown, current * PAGE_SIZE);
  }
  const update = db.statement(UPDATE_PAGE);
  const zero = new Uint8Array(PAGE_SIZE);
  db.exec("BEGIN IMMEDIATE");
  try {
    const last = Math.min(current, set.size);
    for (let p = 2; p <= last; p++) {
      const page = set.pages.get(p) ?? (p > set.lowest ? zero : undefined);
      if (page) update.run([page, BigInt(p)], "number", false);
    }
    const first = set.pages.get(1);
    if (first) update.run([rollbackHeader(first), 1n], "number", false);
    db.exec("COMMIT");
  } catch (error) {
    db.rollback();
    throw error;
  }
  file.resetCache();
  if (file.size() > set.size * PAGE_SIZE) {
    file.truncate(set.size * PAGE_SIZE);
    file.sync();
  }
}

/** Writes pages 1..n as a whole new file: every page but the first, a sync, then page 1 and a sync. */
function writePages(file: MainFile, n: number, page: (number: number) => Uint8Array | undefined): void {
  file.truncate(0);
  if (n === 0) file.sync();
  if (n > 1) {
    const rest = new Uint8Array((n - 1) * PAGE_SIZE);
    for (let p = 2; p <= n; p++) {
      const bytes = page(p);
      if (bytes) rest.set(bytes, (p - 2) * PAGE_SIZE);
    }
    writeChunks(file, rest, PAGE_SIZE);
    file.sync();
  }
  if (n > 0) {
    file.write(rollbackHeader(page(1) ?? new Uint8Array(PAGE_SIZE)), 0);
    file.sync();
  }
  file.resetCache();
}

/**
 * Writes whole pages below SQLite in few calls, each of a length that cannot
 * be one page of another size: an encrypting VFS must know where each page
 * starts (to encrypt it under its number), and two 4096-byte pages in one call
 * look exactly like one page of 8192, so it refuses a write of several pages
 * whose length is a power of two up to 64 KiB. Such a length is written as
 * one page less, then that last page on its own.
 */
function writeChunks(file: MainFile, bytes: Uint8Array, offset: number): void {
  for (let at = 0; at < bytes.byteLength; ) {
    let n = Math.min(CHUNK, bytes.byteLength - at);
    if (n > PAGE_SIZE && n <= MAX_PAGE && (n & (n - 1)) === 0) n -= PAGE_SIZE;
    file.write(bytes.subarray(at, at + n), offset + at);
    at += n;
  }
}

/** A copy of page 1 whose file format bytes (18, 19) say rollback journal instead of WAL. */
function rollbackHeader(page: Uint8Array): Uint8Array {
  const copy = page.slice();
  if (copy[18] === 2) copy[18] = 1;
  if (copy[19] === 2) copy[19] = 1;
  return copy;
}
