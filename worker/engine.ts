import { ErrorCode, LibsqlError } from "../src/errors.js";
import { isIterableObject } from "../src/iterable.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  EncryptionSpec,
  EngineApi,
  ExportOptions,
  IntMode,
  OpenRequest,
  PackedArgs,
  PreparedInfo,
  ReplicaApplied,
  ReplicaChange,
  ReplicaEngineApi,
  ReplicaOfflineApi,
  ResultValue,
  RowsAhead,
  RunManyPart,
  RunManyResult,
  Stmt,
  StmtResult,
  StorageKind,
} from "../src/proto.js";
import { Connection } from "./connection.js";
import { DatabaseCipher, refuseEncryptedWithoutKey } from "./crypto/database-cipher.js";
import { EncryptionErrorCode, notADatabaseError } from "./crypto/encryption-errors.js";
import { Database } from "./database.js";
import { EngineCursor } from "./engine-cursor.js";
import { isPackedArgs, type PreparedStatement } from "./prepared-statement.js";
import { applyFrames, writeImage } from "./replica/apply-frames.js";
import { diffChanges } from "./replica/changeset-diff.js";
import { guardOfflineWrites, takeRefusal } from "./replica/offline-guard.js";
import { batchIfReadOnly, executeIfReadOnly, isReadOnlySql } from "./replica/read-only.js";
import { arrayRows, type RowFormat } from "./row-format.js";
import { runBatch, stmtArgs } from "./run-batch.js";
import { failPart, finishPart, startPart, WHOLE } from "./run-many-parts.js";
import { openHandle } from "./sqlite/open-handle.js";
import { readRow } from "./sqlite/read-row.js";
import { probeResultRow } from "./sqlite/result-cells.js";
import { Sqlite } from "./sqlite/sqlite.js";
import type { Sqlite3Module } from "./sqlite/sqlite3-module.js";
import { probeStatementLayout, type StatementLayout } from "./sqlite/statement-layout.js";
import { checkDatabaseBytes } from "./storage/database-bytes.js";
import { memoryStorage } from "./storage/memory-storage.js";
import { serializeDatabase } from "./storage/serialize-database.js";
import type { StorageBackend } from "./storage/storage-backend.js";

/** How an environment (Node, a browser worker, workerd) builds its engine. */
export interface EngineOptions<Rows = ResultValue[][]> {
  /** Loads and initialises the wasm module; called once, on first use, and again after a failure. */
  loadSqlite: () => Promise<Sqlite3Module>;
  /** Storage back ends beyond memory that this environment offers. */
  storages?: Partial<Record<StorageKind, StorageBackend>>;
  /**
   * How `execute`, `batch`, `query` and `fetchCursor` hold the rows they
   * return (arrays of values when absent; a browser worker packs them).
   */
  rows?: RowFormat<Rows>;
  /**
   * Honour `onRows` (hand rows over in batches while a statement runs): worth
   * it where another thread takes them (a browser worker); in-process it only
   * splits the rows, so it is off unless set.
   */
  rowsAhead?: boolean;
}

interface Loaded {
  sqlite: Sqlite;
  layout: StatementLayout;
}

interface Owned<T> {
  owner: Connection;
  value: T;
}

/** Where an open database lives, and its encryption (none for a plain one). */
interface Home {
  backend: StorageBackend;
  path: string;
  cipher: DatabaseCipher | undefined;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The engine: databases, connections, prepared statements and cursors behind
 * integer handles, with owner checks. It is the same object in-process and
 * behind a worker's `postMessage`.
 */
export class Engine<Rows = ResultValue[][]> implements EngineApi<Rows>, ReplicaEngineApi, ReplicaOfflineApi {
  readonly #options: EngineOptions<Rows>;
  readonly #rows: RowFormat<Rows>;
  #loading: Promise<Loaded> | null = null;
  #nextId = 1;
  readonly #connections = new Map<number, Connection>();
  readonly #statements = new Map<number, Owned<PreparedStatement>>();
  readonly #cursors = new Map<number, Owned<EngineCursor<Rows>>>();
  readonly #databases = new Map<string, Promise<Database<Connection>>>();
  /** Backend, path and encryption of each open database, to release its storage after the last close. */
  readonly #homes = new Map<string, Home>();

  constructor(options: EngineOptions<Rows>) {
    this.#options = options;
    this.#rows = options.rows ?? (arrayRows as unknown as RowFormat<Rows>);
  }

  /** `onRows` where this engine hands rows over ahead (`EngineOptions.rowsAhead`). */
  #ahead(onRows: RowsAhead<Rows> | undefined): RowsAhead<Rows> | undefined {
    return this.#options.rowsAhead ? onRows : undefined;
  }

  /** Loads the wasm module once; a failed load is retried on the next call. */
  #load(): Promise<Loaded> {
    this.#loading ??= (async () => {
      const sqlite = new Sqlite(await this.#options.loadSqlite());
      const probe = openHandle(sqlite, ":memory:", null);
      try {
        const layout = probeStatementLayout(sqlite, probe);
        probeResultRow(sqlite, probe, (stmt, n) => readRow(sqlite, stmt, n, "bigint"));
        return { sqlite, layout };
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
    const encryption = request.storage === "memory" ? undefined : request.encryption;
    for (;;) {
      let pending = this.#databases.get(key);
      const home = this.#homes.get(key);
      // Connections share the handle: each must bring the key it was opened with.
      if (pending && home) checkSameEncryption(home.cipher, encryption);
      if (!pending) {
        const cipher = encryption ? DatabaseCipher.create(encryption) : undefined;
        sqlite.clearVfsError();
        const opening = backend
          .open(sqlite, request.path, { busyTimeoutMs: request.busyTimeoutMs, encryption: cipher })
          .then((ptr) => {
            const db = new Database<Connection>(sqlite, layout, key, ptr);
            // Native libSQL (and so @libsql/client) starts with foreign keys on; this build does not.
            db.exec("PRAGMA foreign_keys=ON");
            return db;
          });
        opening.catch(() => {
          cipher?.dispose();
          if (this.#databases.get(key) !== opening) return;
          this.#databases.delete(key);
          this.#homes.delete(key);
        });
        this.#databases.set(key, opening);
        this.#homes.set(key, { backend, path: request.path, cipher });
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
      try {
        await home?.backend.release?.(home.path);
      } finally {
        home?.cipher?.dispose();
      }
    }
  }

  exportDatabase(conn: number, options?: ExportOptions): Promise<Uint8Array> {
    return this.#run(conn, (c) => {
      const bytes = serializeDatabase(c.db.sqlite, c.db.ptr);
      const cipher = this.#homes.get(c.db.key)?.cipher;
      return cipher && !options?.decrypt ? cipher.encryptFile(bytes) : bytes;
    });
  }

  async importDatabase(request: OpenRequest, bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("the database must be given as a Uint8Array");
    if (!request.encryption) {
      if (bytes.length >= 100) refuseEncryptedWithoutKey(bytes.subarray(0, 100));
      checkDatabaseBytes(bytes);
    }
    const { sqlite, backend } = await this.#closedDatabase(request);
    if (!backend.importDatabase) {
      throw new LibsqlError(
        request.storage === "memory"
          ? "a memory database has no name to import into"
          : `storage "${request.storage}" cannot import databases here`,
        ErrorCode.STORAGE_UNAVAILABLE,
      );
    }
    const cipher = request.encryption ? DatabaseCipher.create(request.encryption) : undefined;
    try {
      // Encrypted bytes are checked against the key, plain ones encrypted, before anything is replaced.
      const file = cipher ? cipher.importFile(bytes) : bytes;
      const options = { busyTimeoutMs: request.busyTimeoutMs, encryption: cipher };
      // No bytes is an empty database: the same as no database.
      if (file.length === 0 && backend.deleteDatabase) await backend.deleteDatabase(sqlite, request.path, options);
      else await backend.importDatabase(sqlite, request.path, file, options);
    } catch (error) {
      throw engineError(error);
    } finally {
      cipher?.dispose();
    }
  }

  async rekeyDatabase(request: OpenRequest, to: EncryptionSpec | null): Promise<void> {
    const { sqlite, backend } = await this.#closedDatabase(request);
    if (!backend.rekeyDatabase) {
      throw new LibsqlError(
        request.storage === "memory"
          ? "a memory database is never encrypted at rest"
          : `storage "${request.storage}" cannot re-encrypt databases here`,
        ErrorCode.STORAGE_UNAVAILABLE,
      );
    }
    const from = request.encryption ? DatabaseCipher.create(request.encryption) : undefined;
    let target: DatabaseCipher | undefined;
    try {
      target = to ? DatabaseCipher.create(to) : undefined;
      sqlite.clearVfsError();
      await backend.rekeyDatabase(sqlite, request.path, target ?? null, {
        busyTimeoutMs: request.busyTimeoutMs,
        encryption: from,
      });
    } catch (error) {
      throw engineError(error);
    } finally {
      from?.dispose();
      target?.dispose();
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

  execute(conn: number, stmt: Stmt, intMode: IntMode, onRows?: RowsAhead<Rows>): Promise<StmtResult<Rows>> {
    return this.#run(conn, (c) =>
      c.db
        .statement(stmt.sql)
        .run(stmtArgs(stmt), intMode, stmt.wantRows ?? true, undefined, this.#rows, this.#ahead(onRows)),
    );
  }

  batch(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult<Rows>> {
    return this.#run(conn, (c) => runBatch(c.db, steps, intMode, this.#rows));
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
    onRows?: RowsAhead<Rows>,
  ): Promise<StmtResult<Rows>> {
    return this.#run(conn, (c) => {
      const stmt = this.#owned(this.#statements, c, stmtId, "statement", ErrorCode.STATEMENT_CLOSED);
      return stmt.run(args, intMode, true, maxRows, this.#rows, this.#ahead(onRows));
    });
  }

  runMany(
    conn: number,
    stmtId: number,
    argsList: Iterable<ArgValue[] | Record<string, ArgValue>> | PackedArgs,
    part: RunManyPart = WHOLE,
  ): Promise<RunManyResult> {
    let lists: unknown = argsList;
    try {
      // Another iterable is read whole first: here nothing runs meanwhile, and its own errors stay its own.
      if (!Array.isArray(lists) && !isPackedArgs(lists) && isIterableObject(lists)) lists = Array.from(lists);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(conn, (c) => {
      startPart(c, part);
      try {
        const stmt = this.#owned(this.#statements, c, stmtId, "statement", ErrorCode.STATEMENT_CLOSED);
        if (!Array.isArray(lists) && !isPackedArgs(lists)) {
          throw new LibsqlError("runMany expects an array of argument lists", ErrorCode.ARGS_INVALID);
        }
        const result = stmt.runMany(lists as (ArgValue[] | Record<string, ArgValue>)[] | PackedArgs);
        finishPart(c, part, Array.isArray(lists) ? lists.length : lists.count);
        return result;
      } catch (error) {
        throw failPart(c, part, error);
      }
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
      const cursor = new EngineCursor(c.db, steps, intMode, this.#rows);
      const cursorId = this.#nextId++;
      this.#cursors.set(cursorId, { owner: c, value: cursor });
      c.cursors.add(cursorId);
      return cursorId;
    });
  }

  fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunk<Rows>> {
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

  executeIfReadOnly(conn: number, stmt: Stmt, intMode: IntMode): Promise<StmtResult | null> {
    return this.#run(conn, (c) => executeIfReadOnly(c.db, stmt, intMode));
  }

  batchIfReadOnly(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult | null> {
    return this.#run(conn, (c) => batchIfReadOnly(c.db, steps, intMode));
  }

  isReadOnly(conn: number, sqls: string[]): Promise<boolean> {
    return this.#run(conn, (c) => sqls.every((sql) => isReadOnlySql(c.db, sql)));
  }

  replicaApplyFrames(conn: number, frames: Uint8Array): Promise<ReplicaApplied> {
    return this.#run(conn, (c) => applyFrames(c.db, frames));
  }

  replicaWriteImage(conn: number, image: Uint8Array): Promise<void> {
    return this.#run(conn, (c) => writeImage(c.db, image));
  }

  async replicaCopy(from: number, to: number): Promise<void> {
    const bytes = await this.#run(from, (c) => serializeDatabase(c.db.sqlite, c.db.ptr));
    await this.#run(to, (c) => writeImage(c.db, bytes));
  }

  replicaGuardOfflineWrites(conn: number): Promise<void> {
    return this.#run(conn, (c) => guardOfflineWrites(c.db));
  }

  async replicaRefusal(conn: number): Promise<string | undefined> {
    return takeRefusal(this.#connection(conn).db);
  }

  replicaDiff(work: number, synced: number): Promise<ReplicaChange[]> {
    const from = this.#connection(synced).db;
    return this.#run(work, (c) => diffChanges(c.db, from));
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
    db.sqlite.clearVfsError();
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

/**
 * A connection joining an open database must bring the same encryption (a
 * shared handle must not let a wrong or missing key in): `SQLITE_NOTADB`
 * with the reason otherwise, as opening the file with it would give.
 */
function checkSameEncryption(open: DatabaseCipher | undefined, asked: EncryptionSpec | undefined): void {
  if (open === undefined && asked === undefined) return;
  if (open === undefined) throw notADatabaseError(EncryptionErrorCode.NOT_ENCRYPTED);
  if (asked === undefined) throw notADatabaseError(EncryptionErrorCode.KEY_MISSING);
  if (open.matches(asked)) return;
  throw notADatabaseError(
    (asked.format ?? "libsql") === open.format ? EncryptionErrorCode.KEY_WRONG : EncryptionErrorCode.FORMAT_MISMATCH,
  );
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
