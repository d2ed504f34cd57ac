import type { Sqlite } from "../sqlite/sqlite.js";

/**
 * Where databases of one `StorageKind` live. The engine asks a backend to open
 * a handle; the backend registers whatever VFS it needs the first time.
 */
export interface StorageBackend {
  /** Registry key for `path`: equal keys share one SQLite handle. */
  key(path: string): string;
  /** Opens (creating if missing) the database at `path`; returns the `sqlite3*`. */
  open(sqlite: Sqlite, path: string): Promise<number>;
}
