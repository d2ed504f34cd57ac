import { LibsqlError } from "../../src/errors.js";
import type { Sqlite } from "../sqlite/sqlite.js";

/**
 * The bytes of `db`'s main database (`sqlite3_serialize`), copied out of the
 * wasm heap into a buffer of their own. SQLite reads every page inside one
 * read transaction, so the copy is consistent; it works on any VFS.
 */
export function serializeDatabase(sqlite: Sqlite, db: number): Uint8Array {
  const { x } = sqlite;
  const schema = sqlite.encode("main");
  // *piSize is only written when SQLite could count the pages: -1 marks failure.
  const size = sqlite.out;
  sqlite.i32[size >> 2] = -1;
  sqlite.i32[(size >> 2) + 1] = -1;
  const p = x.sqlite3_serialize(db, schema, size, 0);
  const low = sqlite.i32[size >> 2] as number;
  const high = sqlite.i32[(size >> 2) + 1] as number;
  if (low === -1 && high === -1) {
    if (p !== 0) x.sqlite3_free(p);
    const rc = x.sqlite3_extended_errcode(db);
    throw rc !== 0 ? sqlite.error(db, rc) : new LibsqlError("could not serialise the database", "SQLITE_ERROR");
  }
  const n = high * 2 ** 32 + (low >>> 0);
  if (n === 0) {
    if (p !== 0) x.sqlite3_free(p);
    return new Uint8Array(0);
  }
  if (p === 0) throw new LibsqlError(`out of memory serialising ${n} bytes`, "SQLITE_NOMEM", "SQLITE_NOMEM", 7);
  try {
    return sqlite.u8.slice(p, p + n);
  } finally {
    x.sqlite3_free(p);
  }
}
