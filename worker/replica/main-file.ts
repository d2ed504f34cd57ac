import { LibsqlError } from "../../src/errors.js";
import type { Sqlite } from "../sqlite/sqlite.js";

const FCNTL_FILE_POINTER = 7;
const FCNTL_RESET_CACHE = 42;
const FCNTL_VFS_POINTER = 27;
const SYNC_FULL = 0x3;

// Offsets of the methods in `sqlite3_io_methods` (wasm32: 4-byte int and pointers).
const X_READ = 8;
const X_WRITE = 12;
const X_TRUNCATE = 16;
const X_SYNC = 20;
const X_FILE_SIZE = 24;

type IoMethod = (...args: (number | bigint)[]) => number;

/**
 * The main database file of an open handle, reached below SQLite through its
 * VFS (`SQLITE_FCNTL_FILE_POINTER`), whatever the VFS is (node:fs, OPFS, a
 * wrapping VFS). The replica writes pages here that SQLite cannot write for it:
 * a whole image, or pages past the current end of the database.
 *
 * Only call it while the database lock is held and no transaction is open, and
 * reset SQLite's page cache (`resetCache`) once done.
 */
export class MainFile {
  readonly #sqlite: Sqlite;
  readonly #db: number;
  readonly #file: number;
  readonly #methods: number;

  constructor(sqlite: Sqlite, db: number) {
    this.#sqlite = sqlite;
    this.#db = db;
    const { x, out } = sqlite;
    sqlite.i32[out >> 2] = 0;
    const rc = x.sqlite3_file_control(db, sqlite.encode("main"), FCNTL_FILE_POINTER, out);
    const file = sqlite.i32[out >> 2] as number;
    if (rc !== 0 || file === 0) throw new LibsqlError("the database has no file to write to", "SQLITE_MISUSE");
    this.#file = file;
    this.#methods = sqlite.i32[file >> 2] as number;
    if (this.#methods === 0) throw new LibsqlError("the database file is not open", "SQLITE_MISUSE");
  }

  #method(offset: number): IoMethod {
    const pointer = this.#sqlite.i32[(this.#methods + offset) >> 2] as number;
    return this.#sqlite.module.wasm.functionEntry(pointer) as unknown as IoMethod;
  }

  #check(rc: number, what: string): void {
    if (rc !== 0) {
      const extended = this.#sqlite.codeName(rc);
      throw new LibsqlError(
        `${what} failed on the database file (${extended})`,
        this.#sqlite.codeName(rc & 0xff),
        extended,
        rc,
      );
    }
  }

  /** The file's size in bytes. */
  size(): number {
    const { out } = this.#sqlite;
    this.#check(this.#method(X_FILE_SIZE)(this.#file, out), "xFileSize");
    const low = this.#sqlite.i32[out >> 2] as number;
    const high = this.#sqlite.i32[(out >> 2) + 1] as number;
    return high * 2 ** 32 + (low >>> 0);
  }

  /** Reads `n` bytes at `offset`; bytes past the end read as zeros. */
  read(offset: number, n: number): Uint8Array {
    const p = this.#sqlite.malloc(n);
    try {
      const rc = this.#method(X_READ)(this.#file, p, n, BigInt(offset));
      // SQLITE_IOERR_SHORT_READ zero-fills the rest, as SQLite expects.
      if (rc !== 0 && rc !== 522) this.#check(rc, "xRead");
      return this.#sqlite.u8.slice(p, p + n);
    } finally {
      this.#sqlite.x.sqlite3_free(p);
    }
  }

  /** Writes `bytes` at `offset` (extending the file if needed). */
  write(bytes: Uint8Array, offset: number): void {
    const p = this.#sqlite.copyIn(bytes);
    try {
      this.#check(this.#method(X_WRITE)(this.#file, p, bytes.byteLength, BigInt(offset)), "xWrite");
    } finally {
      this.#sqlite.x.sqlite3_free(p);
    }
  }

  /** Sets the file's length. */
  truncate(size: number): void {
    this.#check(this.#method(X_TRUNCATE)(this.#file, BigInt(size)), "xTruncate");
  }

  /** Makes everything written so far durable. */
  sync(): void {
    this.#check(this.#method(X_SYNC)(this.#file, SYNC_FULL), "xSync");
  }

  /** Drops SQLite's cached pages of this database, so that it reads what is in the file now. */
  resetCache(): void {
    const rc = this.#sqlite.x.sqlite3_file_control(this.#db, this.#sqlite.encode("main"), FCNTL_RESET_CACHE, 0);
    if (rc !== 0) throw this.#sqlite.error(this.#db, rc);
  }

  /**
   * Runs `body` (which writes the file below SQLite) with the database in
   * `locking_mode=NORMAL`. Under EXCLUSIVE (browsers' sahpool storage) the
   * pager keeps its lock and never looks at the file again, so it would go on
   * believing the old size; in NORMAL it lets the lock go after each
   * transaction and reads the size afresh with the next one.
   */
  withNormalLocking<T>(body: () => T): T {
    if (!this.#exclusive()) return body();
    this.#exec("PRAGMA main.locking_mode=NORMAL");
    try {
      // NORMAL takes effect when the current lock is let go: at the end of the next read.
      try {
        this.#exec("PRAGMA main.schema_version");
      } catch {
        // A file that is not a database yet (an interrupted bootstrap) holds no lock worth releasing.
      }
      return body();
    } finally {
      this.#exec("PRAGMA main.locking_mode=EXCLUSIVE");
    }
  }

  #exclusive(): boolean {
    const { x, out } = this.#sqlite;
    const sql = this.#sqlite.encode("PRAGMA main.locking_mode");
    this.#sqlite.check(this.#db, x.sqlite3_prepare_v2(this.#db, sql, -1, out, 0));
    const stmt = this.#sqlite.i32[out >> 2] as number;
    try {
      return x.sqlite3_step(stmt) === 100 && this.#sqlite.cstr(x.sqlite3_column_text(stmt, 0)) === "exclusive";
    } finally {
      x.sqlite3_finalize(stmt);
    }
  }

  #exec(sql: string): void {
    this.#sqlite.check(this.#db, this.#sqlite.x.sqlite3_exec(this.#db, this.#sqlite.encode(sql), 0, 0, 0));
  }

  /** The name of the VFS the database is open through. */
  vfsName(): string {
    const { x, out } = this.#sqlite;
    this.#sqlite.i32[out >> 2] = 0;
    const rc = x.sqlite3_file_control(this.#db, this.#sqlite.encode("main"), FCNTL_VFS_POINTER, out);
    const vfs = this.#sqlite.i32[out >> 2] as number;
    if (rc !== 0 || vfs === 0) throw new LibsqlError("the database has no VFS", "SQLITE_MISUSE");
    // sqlite3_vfs on wasm32: iVersion, szOsFile, mxPathname, pNext, then zName.
    return this.#sqlite.cstr(this.#sqlite.i32[(vfs + 16) >> 2] as number);
  }
}
