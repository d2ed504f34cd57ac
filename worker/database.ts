import { LibsqlError } from "../src/errors.js";
import { DbLock } from "./db-lock.js";
import { PreparedStatement, type SessionFlags } from "./prepared-statement.js";
import { SQLITE } from "./sqlite/raw-exports.js";
import type { Sqlite } from "./sqlite/sqlite.js";
import type { StatementLayout } from "./sqlite/statement-layout.js";

const CACHE_CAPACITY = 100;

/**
 * One open SQLite database handle, shared by every engine connection to it.
 * Owns the statement cache and the FIFO lock that serialises connections.
 */
export class Database<Owner = unknown> {
  /** Registry key: storage and path, or a unique name for memory databases. */
  readonly key: string;
  /** The `sqlite3*` pointer. */
  readonly ptr: number;
  readonly sqlite: Sqlite;
  readonly layout: StatementLayout;
  /** Serialises connections: held per call, or for a whole transaction. */
  readonly lock = new DbLock<Owner>();
  /** Connections currently open on this database. */
  readonly owners = new Set<Owner>();
  readonly #cache = new Map<string, PreparedStatement>();
  readonly #session: SessionFlags = { queryOnly: false };
  #closed = false;

  constructor(sqlite: Sqlite, layout: StatementLayout, key: string, ptr: number) {
    this.sqlite = sqlite;
    this.layout = layout;
    this.key = key;
    this.ptr = ptr;
  }

  /** True once the handle was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while no transaction is open on the SQLite handle. */
  get autocommit(): boolean {
    return this.sqlite.x.sqlite3_get_autocommit(this.ptr) !== 0;
  }

  /** A cached prepared statement for `sql` (exactly one statement). */
  statement(sql: string): PreparedStatement {
    const cached = this.#cache.get(sql);
    if (cached) {
      // Re-insert to keep the Map in least-recently-used order.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    const stmt = this.prepare(sql);
    this.#cache.set(sql, stmt);
    if (this.#cache.size > CACHE_CAPACITY) {
      const [oldest, evicted] = this.#cache.entries().next().value as [string, PreparedStatement];
      this.#cache.delete(oldest);
      evicted.finalize();
    }
    return stmt;
  }

  /** Prepares `sql`, which must hold exactly one statement; the caller finalises it. */
  prepare(sql: string): PreparedStatement {
    const { x, out } = this.sqlite;
    const p = this.sqlite.encode(sql);
    const end = p + this.sqlite.lastLength;
    const rc = x.sqlite3_prepare_v2(this.ptr, p, this.sqlite.lastLength + 1, out, out + 4);
    if (rc !== SQLITE.OK) throw this.sqlite.error(this.ptr, rc);
    const stmt = this.sqlite.i32[out >> 2] as number;
    const tail = this.sqlite.i32[(out + 4) >> 2] as number;
    if (stmt === 0) throw new LibsqlError("the SQL text holds no statement", "SQL_NO_STATEMENT");
    if (tail < end && this.#holdsStatement(tail, end)) {
      x.sqlite3_finalize(stmt);
      throw new LibsqlError(
        "the SQL text holds more than one statement; use executeMultiple() or batch() to run several",
        "SQL_MANY_STATEMENTS",
      );
    }
    return new PreparedStatement(this.sqlite, this.ptr, this.layout, this.#session, stmt, sql);
  }

  /** True when the text between `from` and `end` (in the scratch area) prepares to a statement or fails to parse. */
  #holdsStatement(from: number, end: number): boolean {
    const { x, out } = this.sqlite;
    const rc = x.sqlite3_prepare_v2(this.ptr, from, end - from, out, 0);
    const next = this.sqlite.i32[out >> 2] as number;
    if (next !== 0) x.sqlite3_finalize(next);
    return rc !== SQLITE.OK || next !== 0;
  }

  /** Runs an SQL script with `sqlite3_exec`, discarding rows. */
  exec(sql: string): void {
    const p = sql.length > 65536 ? this.sqlite.encodeOwned(sql) : this.sqlite.encode(sql);
    try {
      const rc = this.sqlite.x.sqlite3_exec(this.ptr, p, 0, 0, 0);
      if (rc !== SQLITE.OK) throw this.sqlite.error(this.ptr, rc);
    } finally {
      if (sql.length > 65536) this.sqlite.x.sqlite3_free(p);
    }
  }

  /** Turns `query_only` off again after a read-only transaction (see `PreparedStatement.beforeStep`). */
  endReadOnly(): void {
    if (!this.#session.queryOnly) return;
    this.exec("PRAGMA query_only=0");
    this.#session.queryOnly = false;
  }

  /** Rolls back an open transaction, if any. */
  rollback(): void {
    if (!this.autocommit) this.exec("ROLLBACK");
  }

  /** Finalises cached statements and closes the handle. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stmt of this.#cache.values()) stmt.finalize();
    this.#cache.clear();
    this.sqlite.x.sqlite3_close_v2(this.ptr);
  }
}
