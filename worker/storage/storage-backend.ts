import type { DatabaseCipher } from "../crypto/database-cipher.js";
import type { Sqlite } from "../sqlite/sqlite.js";

/**
 * Where databases of one `StorageKind` live. The engine asks a backend to open
 * a handle; the backend registers whatever VFS it needs the first time.
 */
export interface StorageBackend {
  /** Registry key for `path`: equal keys share one SQLite handle. */
  key(path: string): string;
  /** Opens (creating if missing) the database at `path`; returns the `sqlite3*`. */
  open(sqlite: Sqlite, path: string, options?: StorageOptions): Promise<number>;
  /** Called once the engine closed the last handle it had opened at `path` (to give the storage up). */
  release?(path: string): Promise<void>;
  /**
   * Replaces the database at `path` with `bytes` (already checked to be an
   * SQLite database), dropping any left-over journal. The engine only calls it
   * while the database is not open here; the backend refuses with
   * `STORAGE_BUSY` when another tab or worker has it open.
   */
  importDatabase?(sqlite: Sqlite, path: string, bytes: Uint8Array, options?: StorageOptions): Promise<void>;
  /** Deletes the database at `path` with its journal (a missing one is fine); same rules as `importDatabase`. */
  deleteDatabase?(sqlite: Sqlite, path: string, options?: StorageOptions): Promise<void>;
  /**
   * Re-encrypts the database at `path` from `options.encryption` (absent: a
   * plain file) to `to` (null: plain), crash-safely (`rekeyDatabaseFile`);
   * same rules as `importDatabase`.
   */
  rekeyDatabase?(sqlite: Sqlite, path: string, to: DatabaseCipher | null, options?: StorageOptions): Promise<void>;
}

/** What a storage backend may take from the request. */
export interface StorageOptions {
  /** How long to wait, in ms, for another tab or worker to give the database up (< 0: no limit). */
  busyTimeoutMs?: number | undefined;
  /**
   * The database's encryption: the backend opens it through an encrypting VFS
   * over its own (`installEncryptingVfs`), and `importDatabase` gets the bytes
   * to store as they are (already encrypted). Absent for a plain database.
   */
  encryption?: DatabaseCipher | undefined;
}
