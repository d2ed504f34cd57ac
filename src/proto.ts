/**
 * The vocabulary shared by the client, every transport and the engine: Hrana-shaped
 * statements, batches, results and cursor entries, plus the engine's RPC surface.
 *
 * Values here are already JavaScript values: integers arrive as `number`, `bigint`
 * or `string` according to the caller's `intMode`, blobs as `ArrayBuffer`. Only the
 * HTTP edge needs a JSON codec; `postMessage` clones these natively.
 */

/** How integers are returned: see `Config.intMode`. */
export type IntMode = "number" | "bigint" | "string";

/**
 * A value sent to the engine. `number` binds as REAL (as `@libsql/client` does),
 * `bigint` as INTEGER, `Uint8Array` as BLOB. The client converts booleans and dates
 * before they get here.
 */
export type ArgValue = null | string | number | bigint | Uint8Array;

/**
 * `count` positional argument lists of `width` values each, read value by
 * value in order: how many lists reach the engine's worker (one block, no
 * array per list to build before binding).
 */
export interface PackedArgs {
  readonly width: number;
  readonly count: number;
  /** The UTF-8 bytes of the text values, back to back (null when there is none). */
  readonly text: Uint8Array | null;
  next(): ArgValue;
  /** When the next value is text: skips it and returns where its bytes start in `text`; else -1, skipping nothing. */
  nextText(): number;
  /** Where the bytes of the text `nextText()` skipped end in `text`. */
  readonly textEnd: number;
  /** When the next value is an integer within 32 bits: skips it and returns it as a number; else NaN, skipping nothing. */
  nextInt32(): number;
}

/**
 * One of the parts a long `runMany` is sent in, so that the engine's worker
 * starts on the first while the page still encodes the next: the first
 * opens the savepoint that makes the runs atomic, the last releases it, a
 * failing one rolls back every part before it and the parts after it fail
 * unrun. `offset`: the index of the part's first list in the whole.
 */
export interface RunManyPart {
  readonly first: boolean;
  readonly last: boolean;
  readonly offset: number;
  /** The page could not make the rest of the lists (its iterable threw): the parts before are undone and it ends. */
  readonly abandon?: boolean;
}

/** A value received from the engine; integers follow the request's `IntMode`. */
export type ResultValue = null | string | number | bigint | ArrayBuffer;

/**
 * `count` rows of `width` values laid end to end in one array: how rows
 * arrive from a worker, without an array per row (building 100k row objects
 * from one flat array took a tenth of the time it took from 100k arrays).
 */
export interface FlatRows {
  width: number;
  count: number;
  values: ResultValue[];
}

/** Rows as a transport hands them to the client: an array of values per row, or flat. */
export type ReceivedRows = ResultValue[][] | FlatRows;

/** Takes a batch of a statement's rows, with its column names, before the statement's result. */
export type RowsAhead<Rows> = (rows: Rows, columns: string[]) => void;

/** One SQL statement with its arguments. */
export interface Stmt {
  /** Exactly one SQL statement. */
  sql: string;
  /** Positional arguments (`?`, `?NNN`). */
  args?: ArgValue[];
  /** Named arguments; keys with or without their `:`/`@`/`$` prefix. */
  namedArgs?: Record<string, ArgValue>;
  /** When false the engine skips collecting rows (BEGIN/COMMIT steps). */
  wantRows?: boolean;
}

/**
 * The result of one statement. `Rows` is how its rows are held: arrays of
 * values, or (in a browser worker, on their way to the page) a packed block.
 */
export interface StmtResult<Rows = ResultValue[][]> {
  /** Column names (`""` where SQLite gives none). */
  columns: string[];
  /** Declared column types (`""` where there is none). */
  columnTypes: string[];
  /** Rows as arrays of values, in column order. */
  rows: Rows;
  /** Rows changed by a statement that returns no rows; 0 otherwise. */
  rowsAffected: number;
  /** The connection's last insert rowid after a statement that returns no rows. */
  lastInsertRowid: bigint | undefined;
}

/** A Hrana batch condition. */
export type BatchCond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: BatchCond }
  | { type: "and"; conds: BatchCond[] }
  | { type: "or"; conds: BatchCond[] }
  | { type: "is_autocommit" };

/** One step of a batch: a statement run only when its condition holds. */
export interface BatchStep {
  stmt: Stmt;
  condition?: BatchCond | undefined;
}

/** An error as plain data, as it appears inside batch results and cursor entries. */
export interface ProtoError {
  message: string;
  code: string;
  extendedCode?: string | undefined;
  rawCode?: number | undefined;
}

/** Per-step outcome of a batch: both slots are null for a skipped step. */
export interface BatchResult<Rows = ResultValue[][]> {
  stepResults: (StmtResult<Rows> | null)[];
  stepErrors: (ProtoError | null)[];
}

/** What `describe` learns about a statement without running it. */
export interface DescribeResult {
  /** Parameter names by position (`":name"`, `"?3"`), null for a bare `?`. */
  params: (string | null)[];
  /** Result column names. */
  columns: string[];
  /** Declared types of the result columns (`""` where there is none). */
  columnTypes: string[];
  /** True for EXPLAIN statements. */
  isExplain: boolean;
  /** True when the statement does not write to the database. */
  isReadonly: boolean;
}

/**
 * Cursor output in chunks. Hrana streams one entry per row; between threads a
 * `rows` entry carrying many rows costs far less than one message per row.
 */
export type CursorEntry<Rows = ResultValue[][]> =
  | { type: "step_begin"; step: number; columns: string[]; columnTypes: string[] }
  | { type: "rows"; rows: Rows }
  | { type: "step_end"; rowsAffected: number; lastInsertRowid: bigint | undefined }
  | { type: "step_error"; step: number; error: ProtoError }
  | { type: "error"; error: ProtoError };

/** A chunk of cursor entries; `done` is true once the cursor has nothing more. */
export interface CursorChunk<Rows = ResultValue[][]> {
  entries: CursorEntry<Rows>[];
  done: boolean;
}

/** Connection state, as `client.metadata()` reports it. */
export interface ConnectionMetadata {
  lastInsertRowid: bigint;
  changes: number;
  totalChanges: number;
  autocommit: boolean;
}

/** Where a local database lives. */
export type StorageKind = "memory" | "file" | "opfs-sahpool" | "opfs";

/** What the engine needs to open a local database. */
export interface OpenRequest {
  /** Storage back end. */
  storage: StorageKind;
  /** File path or OPFS name; ignored for memory. */
  path: string;
  /** Milliseconds a call waits for another connection's transaction (default 5000). */
  busyTimeoutMs?: number | undefined;
  /** Encryption at rest of the database's file; absent for a plain database. */
  encryption?: EncryptionSpec | undefined;
}

/**
 * How a database file is encrypted: `libsql` (the default) is native libSQL's
 * format (SQLite3 Multiple Ciphers `aes256cbc`), which `libsql` and
 * `@libsql/client` open with the same key; `authenticated` is libsql-web's own
 * XChaCha20-Poly1305 format that detects tampering, which native libSQL cannot open.
 */
export type EncryptionFormat = "libsql" | "authenticated";

/** The key and format of an encrypted database. */
export interface EncryptionSpec {
  /** The key, as in `Config.encryptionKey`: its UTF-8 bytes (native libSQL uses the first 32). */
  key: string;
  /** The file format (default `libsql`). */
  format?: EncryptionFormat | undefined;
}

/** What `EngineApi.exportDatabase` returns for an encrypted database. */
export interface ExportOptions {
  /**
   * False (the default): the file as it is kept, encrypted with the database's
   * key and format (for the `libsql` format byte for byte the file on disk);
   * true: a plain SQLite file, decrypted. Plain databases export the same either way.
   */
  decrypt?: boolean | undefined;
}

/** What running a prepared statement once per argument list did, in total. */
export interface RunManyResult {
  /** Rows changed by all the runs together. */
  rowsAffected: number;
  /** The connection's last insert rowid after the last run. */
  lastInsertRowid: bigint | undefined;
}

/** A prepared statement as the engine reports it. */
export interface PreparedInfo extends DescribeResult {
  /** Handle owned by the connection that prepared it. */
  stmtId: number;
}

/**
 * The engine's RPC surface, identical in-process and across `postMessage`.
 * Every handle (connection, statement, cursor) is an integer; statements and
 * cursors belong to the connection that created them, and using them through
 * another connection is a `MISUSE` error.
 */
export interface EngineApi<Rows = ResultValue[][]> {
  /** Opens a connection to a database (sharing the engine's one SQLite handle per database). */
  open(request: OpenRequest): Promise<number>;
  /** Opens another connection to the same database as `conn` (used for transactions). */
  fork(conn: number): Promise<number>;
  /** Closes a connection: rolls back its open transaction and frees its handles. */
  close(conn: number): Promise<void>;
  /**
   * Runs one statement. With `onRows`, rows are handed over in batches
   * while the statement still runs (a worker sends them ahead to the page,
   * which decodes them meanwhile); the result then holds only the rows
   * after the last batch.
   */
  execute(conn: number, stmt: Stmt, intMode: IntMode, onRows?: RowsAhead<Rows>): Promise<StmtResult<Rows>>;
  /** Runs a batch of conditional steps in order. */
  batch(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult<Rows>>;
  /** Runs every statement of an SQL script, discarding rows. */
  sequence(conn: number, sql: string): Promise<void>;
  /** Describes a statement without running it. */
  describe(conn: number, sql: string): Promise<DescribeResult>;
  /** True when the connection is not inside a transaction. */
  getAutocommit(conn: number): Promise<boolean>;
  /** Last insert rowid, changes, total changes and autocommit state. */
  metadata(conn: number): Promise<ConnectionMetadata>;
  /** Prepares a statement owned by `conn`. */
  prepare(conn: number, sql: string): Promise<PreparedInfo>;
  /** Runs a prepared statement; `maxRows` caps the rows collected (1 for `get`); `onRows` as for `execute`. */
  query(
    conn: number,
    stmtId: number,
    args: ArgValue[] | Record<string, ArgValue>,
    intMode: IntMode,
    maxRows?: number,
    onRows?: RowsAhead<Rows>,
  ): Promise<StmtResult<Rows>>;
  /**
   * Runs a prepared statement once per argument list, atomically (inside a
   * savepoint), discarding rows. A failing run undoes them all and throws a
   * `LibsqlBatchError` whose `statementIndex` is the failing list's index.
   */
  runMany(
    conn: number,
    stmtId: number,
    argsList: Iterable<ArgValue[] | Record<string, ArgValue>> | PackedArgs,
    part?: RunManyPart,
  ): Promise<RunManyResult>;
  /** Finalises a prepared statement. */
  finalize(conn: number, stmtId: number): Promise<void>;
  /** Starts a cursor over a batch; rows are fetched with `fetchCursor`. */
  openCursor(conn: number, steps: BatchStep[], intMode: IntMode): Promise<number>;
  /** Returns the next entries of a cursor, at most about `maxRows` rows. */
  fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunk<Rows>>;
  /** Closes a cursor (resetting its statement). */
  closeCursor(conn: number, cursorId: number): Promise<void>;
  /**
   * The database's file as bytes (`sqlite3_serialize`): a consistent snapshot,
   * taken between other connections' transactions. Inside a transaction of
   * `conn` it includes that transaction's changes so far. An encrypted
   * database comes encrypted unless `options.decrypt` (see `ExportOptions`).
   */
  exportDatabase(conn: number, options?: ExportOptions): Promise<Uint8Array>;
  /**
   * Replaces the database at `request` with `bytes`, which must be an SQLite
   * database file (else `SQLITE_NOTADB`) or empty (an empty database, as an
   * export of one gives). With `request.encryption` the bytes are either a
   * file encrypted with that key and format (checked, then kept as they are)
   * or a plain file (encrypted on the way in). Refused with `STORAGE_BUSY` while the
   * database is open here or in another tab or worker. Memory databases have
   * no name to import into (`STORAGE_UNAVAILABLE`).
   */
  importDatabase(request: OpenRequest, bytes: Uint8Array): Promise<void>;
  /**
   * Deletes the database at `request` and its journal; deleting a missing
   * database succeeds. Refused with `STORAGE_BUSY` while it is open here or in
   * another tab or worker.
   */
  deleteDatabase(request: OpenRequest): Promise<void>;
  /**
   * Re-encrypts the database at `request` (whose `encryption` is its current
   * key, absent for a plain database) with `to` (null: decrypts it), crash-safely:
   * the new file is written completely beside the old one, then takes its place.
   * Refused with `STORAGE_BUSY` while the database is open here or in another tab.
   */
  rekeyDatabase(request: OpenRequest, to: EncryptionSpec | null): Promise<void>;
}

/** What `ReplicaEngineApi.replicaApplyFrames` did. */
export interface ReplicaApplied {
  /** Frames applied: those of the complete transactions at the start of the input. */
  frames: number;
  /** Distinct pages written. */
  pages: number;
  /** The database's size in pages afterwards. */
  pageCount: number;
}

/**
 * The engine calls an embedded replica needs beside `EngineApi`: running a
 * statement locally only if it reads (so that reads cost no extra round trip
 * to classify), and writing replicated pages.
 */
export interface ReplicaEngineApi {
  /** Runs `stmt` if it prepares here and only reads (not transaction control); null, without running it, otherwise. */
  executeIfReadOnly(conn: number, stmt: Stmt, intMode: IntMode): Promise<StmtResult | null>;
  /** Runs the batch if every step prepares here and only reads; null otherwise. */
  batchIfReadOnly(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult | null>;
  /** True when every statement of every SQL text prepares here and only reads. */
  isReadOnly(conn: number, sqls: string[]): Promise<boolean>;
  /**
   * Applies the complete server transactions at the start of `frames`
   * (4120-byte WAL frames) atomically; a trailing incomplete transaction is
   * left out (see `frames` in the result).
   */
  replicaApplyFrames(conn: number, frames: Uint8Array): Promise<ReplicaApplied>;
  /** Replaces the database with `image` (4096-byte pages; empty for none), crash-safely (page 1 last). */
  replicaWriteImage(conn: number, image: Uint8Array): Promise<void>;
}

/**
 * A row an embedded replica's offline writes changed, relative to the
 * replicated database (from the session extension's changeset).
 */
export interface ReplicaChange {
  table: string;
  operation: "insert" | "update" | "delete";
  /** The table's column names, in order. */
  columns: string[];
  /** Which columns form the primary key. */
  primaryKey: boolean[];
  /** Values before the change (delete: every column; update: the key and changed columns, others undefined). */
  before: (ArgValue | undefined)[] | undefined;
  /** Values after the change (insert: every column; update: changed columns, others undefined). */
  after: (ArgValue | undefined)[] | undefined;
}

/** The engine calls behind an embedded replica's offline writes (a working copy beside the replicated database). */
export interface ReplicaOfflineApi {
  /** Makes the database of `to` a copy of the database of `from` (crash-safely, page 1 last). */
  replicaCopy(from: number, to: number): Promise<void>;
  /** Refuses, on `conn`'s database, writes offline changes cannot carry (schema changes, tables without a PRIMARY KEY). */
  replicaGuardOfflineWrites(conn: number): Promise<void>;
  /** Why the last write on `conn`'s database was refused by its guard, if it was. */
  replicaRefusal(conn: number): Promise<string | undefined>;
  /** The rows the database of `work` changed relative to the database of `synced` (which it was copied from). */
  replicaDiff(work: number, synced: number): Promise<ReplicaChange[]>;
}
