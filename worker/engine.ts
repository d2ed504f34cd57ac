import { ErrorCode, LibsqlError } from "../src/errors.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  EngineApi,
  IntMode,
  OpenRequest,
  PreparedInfo,
  Stmt,
  StmtResult,
  StorageKind,
} from "../src/proto.js";
import { Connection } from "./connection.js";
import { Database } from "./database.js";
import { EngineCursor } from "./engine-cursor.js";
import type { PreparedStatement } from "./prepared-statement.js";
import { runBatch, stmtArgs } from "./run-batch.js";
import { openHandle } from "./sqlite/open-handle.js";
import { Sqlite } from "./sqlite/sqlite.js";
import type { Sqlite3Module } from "./sqlite/sqlite3-module.js";
import { probeStatementLayout, type StatementLayout } from "./sqlite/statement-layout.js";
import { checkDatabaseBytes } from "./storage/database-bytes.js";
import { memoryStorage } from "./storage/memory-storage.js";
import { serializeDatabase } from "./storage/serialize-database.js";
import type { StorageBackend } from "./storage/storage-backend.js";

/** How an environment (Node, a browser worker, workerd) builds its engine. */
export interface EngineOptions {
  /** Loads and initialises the wasm module; called once, on first use, and again after a failure. */
  loadSqlite: () => Promise<Sqlite3Module>;
  /** Storage back ends beyond memory that this environment offers. */
  storages?: Partial<Record<StorageKind, StorageBackend>>;
}

interface Loaded {
  sqlite: Sqlite;
  layout: StatementLayout;
}

interface Owned<T> {
  owner: Connection;
  value: T;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The engine: databases, connections, prepared statements and cursors behind
 * integer handles, with owner checks. It is the same object in-process and
 * behind a worker's `postMessage`.
 */
export class Engine implements EngineApi {
  readonly #options: EngineOptions;
  #loading: Promise<Loaded> | null = null;
  #nextId = 1;
  readonly #connections = new Map<number, Connection>();
  readonly #statements = new Map<number, Owned<PreparedStatement>>();
  readonly #cursors = new Map<number, Owned<EngineCursor>>();
  readonly #databases = new Map<string, Promise<Database<Connection>>>();
  /** Backend and path of each open database, to release its storage after the last close. */
  readonly #homes = new Map<string, { backend: StorageBackend; path: string }>();

  constructor(options: EngineOptions) {
    this.#options = options;
  }

  /** Loads the wasm module once; a failed load is retried on the next call. */
  #load(): Promise<Loaded> {
    this.#loading ??= (async () => {
      const sqlite = new Sqlite(await this.#options.loadSqlite());
      const probe = openHandle(sqlite, ":memory:", null);
      try {
        return { sqlite, layout: probeStatementLayout(sqlite, probe) };
      } finally {
        sqlite.x.sqlite3_close_v2(probe);
      }
    })().catch((error: unknown) => {
      this.#loading = null;
      if (error instanceof LibsqlError) throw error;
      throw new LibsqlError(
        `could not load the SQLite engine: ${(error as Error)?.message ?? error}`,
        ErrorCode.ENGINE_INIT_FAILED,
        undefined,
        undefined,
        error,
      );
    });
    return this.#loading;
  }

  #storage(kind: StorageKind): StorageBackend {
    const backend = kind === "memory" ? memoryStorage : this.#options.storages?.[kind];
    if (!backend) {
      throw new LibsqlError(`storage "${kind}" is not available in this environment`, ErrorCode.STORAGE_UNAVAILABLE);
    }
    return backend;
  }

  async open(request: OpenRequest): Promise<number> {
    const { sqlite, layout } = await this.#load();
    const backend = this.#storage(request.storage);
    const key = `${request.storage}:${backend.key(request.path)}`;
    for (;;) {
      let pending = this.#databases.get(key);
      if (!pending) {
        const opening = backend
          .open(sqlite, request.path, { busyTimeoutMs: request.busyTimeoutMs })
          .then((ptr) => new Database<Connection>(sqlite, layout, key, ptr));
        opening.catch(() => {
          if (this.#databases.get(key) !== opening) return;
          this.#databases.delete(key);
          this.#homes.delete(key);
        });
        this.#databases.set(key, opening);
        this.#homes.set(key, { backend, path: request.path });
        pending = opening;
      }
      const db = await pending;
      // The last connection may have closed the handle while this call waited.
      if (this.#databases.get(key) === pending && !db.closed) {
        return this.#connect(db, request.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
      }
    }
  }

  async fork(conn: number): Promise<number> {
    const parent = this.#connection(conn);
    return this.#connect(parent.db, parent.busyTimeoutMs);
  }

  #connect(db: Database<Connection>, busyTimeoutMs: number): number {
    const conn = new Connection(this.#nextId++, db, busyTimeoutMs);
    db.owners.add(conn);
    this.#connections.set(conn.id, conn);
    return conn.id;
  }

  async close(connId: number): Promise<void> {
    const conn = this.#connections.get(connId);
    if (!conn) return;
    this.#connections.delete(connId);
    conn.closed = true;
    const { db } = conn;
    db.lock.cancel(conn, new LibsqlError("the connection was closed", ErrorCode.CLIENT_CLOSED));
    for (const id of conn.cursors) this.#cursors.get(id)?.value.close();
    for (const id of conn.statements) this.#statements.get(id)?.value.finalize();
    for (const id of conn.cursors) this.#cursors.delete(id);
    for (const id of conn.statements) this.#statements.delete(id);
    if (db.lock.holder === conn) {
      // The owner went away inside a transaction: nobody can commit it now.
      try {
        db.rollback();
        db.endReadOnly();
      } finally {
        db.lock.release(conn);
      }
    }
    db.owners.delete(conn);
    if (db.owners.size === 0) {
      this.#databases.delete(db.key);
      db.close();
      const home = this.#homes.get(db.key);
      this.#homes.delete(db.key);
      await home?.backend.release?.(home.path);
    }
  }

  exportDatabase(conn: number): Promise<Uint8Array> {
    return this.#run(conn, (c) => serializeDatabase(c.db.sqlite, c.db.ptr));
  }

  async importDatabase(request: OpenRequest, bytes: Uint8Array): Promise<void> {
    checkDatabaseBytes(bytes);
    const { sqlite, backend } = await this.#closedDatabase(request);
    if (!backend.importDatabase) {
      throw new LibsqlError(
        request.storage === "memory"
          ? "a memory database has no name to import into"
          : `storage "${request.storage}" cannot import databases here`,
        ErrorCode.STORAGE_UNAVAILABLE,
      );
    }
    try {
      const options = { busyTimeoutMs: request.busyTimeoutMs };
      // No bytes is an empty database: the same as no database.
      if (bytes.length === 0 && backend.deleteDatabase) await backend.deleteDatabase(sqlite, request.path, options);
      else await backend.importDatabase(sqlite, request.path, bytes, options);
    } catch (error) {
      throw engineError(error);
    }
  }

  async deleteDatabase(request: OpenRequest): Promise<void> {
    const { sqlite, backend } = await this.#closedDatabase(request);
    if (!backend.deleteDatabase) {
      throw new LibsqlError(`storage "${request.storage}" cannot delete databases here`, ErrorCode.STORAGE_UNAVAILABLE);
    }
    try {
      await backend.deleteDatabase(sqlite, request.path, { busyTimeoutMs: request.busyTimeoutMs });
    } catch (error) {
      throw engineError(error);
    }
  }

  /** The backend of `request`'s database, which must not be open in this engine. */
  async #closedDatabase(request: OpenRequest): Promise<{ sqlite: Sqlite; backend: StorageBackend }> {
    const { sqlite } = await this.#load();
    const backend = this.#storage(request.storage);
    if (this.#databases.has(`${request.storage}:${backend.key(request.path)}`)) {
      throw new LibsqlError(`the database "${request.path}" is open; close it first`, ErrorCode.STORAGE_BUSY);
    }
    return { sqlite, backend };
  }

  execute(conn: number, stmt: Stmt, intMode: IntMode): Promise<StmtResult> {
    return this.#run(conn, (c) => c.db.statement(stmt.sql).run(stmtArgs(stmt), intMode, stmt.wantRows ?? true));
  }

  batch(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult> {
    return this.#run(conn, (c) => runBatch(c.db, steps, intMode));
  }

  sequence(conn: number, sql: string): Promise<void> {
    return this.#run(conn, (c) => c.db.exec(sql));
  }

  describe(conn: number, sql: string): Promise<DescribeResult> {
    return this.#run(conn, (c) => c.db.statement(sql).describe());
  }

  async getAutocommit(conn: number): Promise<boolean> {
    return this.#connection(conn).db.autocommit;
  }

  async metadata(conn: number): Promise<ConnectionMetadata> {
    const { db } = this.#connection(conn);
    const { x } = db.sqlite;
    return {
      lastInsertRowid: x.sqlite3_last_insert_rowid(db.ptr),
      changes: x.sqlite3_changes(db.ptr),
      totalChanges: x.sqlite3_total_changes(db.ptr),
      autocommit: db.autocommit,
    };
  }

  prepare(conn: number, sql: string): Promise<PreparedInfo> {
    return this.#run(conn, (c) => {
      const stmt = c.db.prepare(sql);
      const stmtId = this.#nextId++;
      this.#statements.set(stmtId, { owner: c, value: stmt });
      c.statements.add(stmtId);
      return { stmtId, ...stmt.describe() };
    });
  }

  query(
    conn: number,
    stmtId: number,
    args: ArgValue[] | Record<string, ArgValue>,
    intMode: IntMode,
    maxRows?: number,
  ): Promise<StmtResult> {
    return this.#run(conn, (c) => {
      const stmt = this.#owned(this.#statements, c, stmtId, "statement", ErrorCode.STATEMENT_CLOSED);
      return stmt.run(args, intMode, true, maxRows);
    });
  }

  async finalize(conn: number, stmtId: number): Promise<void> {
    const c = this.#connection(conn);
    const entry = this.#statements.get(stmtId);
    if (!entry) return;
    this.#owned(this.#statements, c, stmtId, "statement", ErrorCode.STATEMENT_CLOSED);
    entry.value.finalize();
    this.#statements.delete(stmtId);
    c.statements.delete(stmtId);
  }

  openCursor(conn: number, steps: BatchStep[], intMode: IntMode): Promise<number> {
    return this.#run(conn, (c) => {
      const cursor = new EngineCursor(c.db, steps, intMode);
      const cursorId = this.#nextId++;
      this.#cursors.set(cursorId, { owner: c, value: cursor });
      c.cursors.add(cursorId);
      return cursorId;
    });
  }

  fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunk> {
    return this.#run(conn, (c) => {
      const cursor = this.#owned(this.#cursors, c, cursorId, "cursor", ErrorCode.CURSOR_CLOSED);
      const chunk = cursor.fetch(Math.max(1, maxRows));
      if (chunk.done) this.#dropCursor(c, cursorId);
      return chunk;
    });
  }

  async closeCursor(conn: number, cursorId: number): Promise<void> {
    const c = this.#connection(conn);
    if (!this.#cursors.has(cursorId)) return;
    this.#owned(this.#cursors, c, cursorId, "cursor", ErrorCode.CURSOR_CLOSED).close();
    this.#dropCursor(c, cursorId);
  }

  #dropCursor(conn: Connection, cursorId: number): void {
    this.#cursors.delete(cursorId);
    conn.cursors.delete(cursorId);
  }

  #connection(connId: number): Connection {
    const conn = this.#connections.get(connId);
    if (!conn) {
      throw new LibsqlError(`connection ${connId} does not exist or was closed`, ErrorCode.CLIENT_CLOSED);
    }
    return conn;
  }

  #owned<T>(table: Map<number, Owned<T>>, conn: Connection, id: number, what: string, closedCode: string): T {
    const entry = table.get(id);
    if (!entry) throw new LibsqlError(`${what} ${id} does not exist or was closed`, closedCode);
    if (entry.owner !== conn) {
      throw new LibsqlError(`${what} ${id} belongs to another connection`, ErrorCode.MISUSE);
    }
    return entry.value;
  }

  /**
   * Runs `body` on the connection's database while holding its lock. The lock
   * stays with the connection while a transaction is open on it; a call that
   * fails after opening a transaction of its own rolls it back. When the lock
   * is free the body runs at once (no extra await on the hot path).
   */
  #run<T>(connId: number, body: (conn: Connection) => T): Promise<T> {
    let conn: Connection;
    try {
      conn = this.#connection(connId);
    } catch (error) {
      return Promise.reject(error);
    }
    const { db } = conn;
    // A connection keeps the lock between calls only while its transaction is open.
    const inTransaction = db.lock.holder === conn;
    if (db.lock.tryAcquire(conn)) return this.#locked(conn, inTransaction, body);
    return db.lock.acquire(conn, conn.busyTimeoutMs).then(() => {
      if (conn.closed) {
        db.lock.release(conn);
        throw new LibsqlError(`connection ${connId} was closed`, ErrorCode.CLIENT_CLOSED);
      }
      return this.#locked(conn, false, body);
    });
  }

  #locked<T>(conn: Connection, inTransaction: boolean, body: (conn: Connection) => T): Promise<T> {
    const { db } = conn;
    try {
      return Promise.resolve(body(conn));
    } catch (error) {
      // A call that opened a transaction and then failed must not leave it open.
      if (!inTransaction && !db.autocommit) db.rollback();
      return Promise.reject(engineError(error));
    } finally {
      if (db.autocommit) {
        db.endReadOnly();
        db.lock.release(conn);
      }
    }
  }
}

/** Errors leave the engine as LibsqlError, or as the RangeError of an out-of-range bigint argument. */
function engineError(error: unknown): Error {
  if (error instanceof LibsqlError || error instanceof RangeError) return error;
  return new LibsqlError(
    `internal engine error: ${(error as Error)?.message ?? String(error)}`,
    ErrorCode.INTERNAL_ERROR,
    undefined,
    undefined,
    error,
  );
}
