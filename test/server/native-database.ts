import Database from "libsql";

/**
 * Opening and closing native libSQL connections (the `libsql` npm package, a
 * better-sqlite3-like binding of real libSQL).
 *
 * Facts about the binding this server relies on (checked by test/remote-server):
 * - There is no busy timeout unless one is asked for: a second writer gets SQLITE_BUSY at
 *   once (see write-gate.ts for why that is wanted).
 * - A statement that has started stepping keeps its read snapshot until it is run to the
 *   end; calling `iterate()` again resets it without stepping. `interrupt()` does not.
 * - `close()` does not close a connection while a statement still references it, so an
 *   open transaction must be rolled back explicitly first.
 * - Binding a JS object with numeric keys, or a boolean, aborts the process: the server
 *   only ever binds arrays of null, bigint, number, string and Buffer.
 * - Text containing U+0000 is cut at the NUL when bound.
 */

/** A native connection. */
export type NativeDatabase = Database.Database;

/** A native prepared statement. */
export type NativeStatement = Database.Statement;

/**
 * Opens a connection with automatic checkpoints off: the replica work needs the WAL
 * frames to stay in the WAL. `wal` also switches the file to WAL mode (persistent, so
 * once on the server's first connection is enough).
 */
export function openNativeDatabase(path: string, options: { wal?: boolean } = {}): NativeDatabase {
  const db = new Database(path);
  try {
    if (options.wal) db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA wal_autocheckpoint=0");
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** Rolls back an open transaction (so its locks go even if the binding keeps the handle) and closes. */
export function closeNativeDatabase(db: NativeDatabase): void {
  if (!db.open) return;
  try {
    if (db.inTransaction) db.exec("ROLLBACK");
  } finally {
    db.close();
  }
}
