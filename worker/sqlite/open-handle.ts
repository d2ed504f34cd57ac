import { SQLITE } from "./raw-exports.js";
import type { Sqlite } from "./sqlite.js";

/**
 * Opens a `sqlite3*` on `filename` through `vfs` (the default VFS when null),
 * with extended result codes on. Closes the handle again if opening failed.
 */
export function openHandle(sqlite: Sqlite, filename: string, vfs: string | null): number {
  const { x, out } = sqlite;
  const name = sqlite.encodeOwned(filename);
  const vfsName = vfs === null ? 0 : sqlite.encodeOwned(vfs);
  try {
    const flags = SQLITE.OPEN_READWRITE | SQLITE.OPEN_CREATE | SQLITE.OPEN_URI | SQLITE.OPEN_EXRESCODE;
    const rc = x.sqlite3_open_v2(name, out, flags, vfsName);
    const db = sqlite.i32[out >> 2] as number;
    if (rc !== SQLITE.OK) {
      const error = sqlite.error(db, rc);
      if (db) x.sqlite3_close_v2(db);
      throw error;
    }
    x.sqlite3_extended_result_codes(db, 1);
    return db;
  } finally {
    x.sqlite3_free(name);
    if (vfsName) x.sqlite3_free(vfsName);
  }
}
