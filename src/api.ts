/**
 * The public contract of libsql-web. It is `@libsql/client`'s API (so code
 * and ORMs written for it run unchanged), plus what that client lacks:
 * callback transactions, savepoints, the `exclusive` mode, prepared
 * statements, cursors and connection metadata.
 */
import type { EncryptionFormat, IntMode } from "./proto.js";

export type { EncryptionFormat, IntMode } from "./proto.js";

/** Configuration of a client; `createClient` also accepts the URL alone. */
export interface Config {
  /**
   * Where the database is:
   * - `:memory:` or `file::memory:` — a private in-memory database;
   * - `file:path.db` (Node) — a file on disk;
   * - `opfs:name.db` (browsers) — a database in the Origin Private File System, run in a worker;
   * - `libsql://`, `https://`, `http://` — a remote Turso/sqld database over Hrana.
   */
  url: string;
  /** Bearer token for remote databases; also accepted as `?authToken=` in the URL. */
  authToken?: string;
  /**
   * Key for encryption at rest of a local database (`file:`, `opfs:`, a
   * replica's local copy). Its UTF-8 bytes are the key; in the default
   * `libsql` format native libSQL uses only the first 32 (longer keys work
   * and log a warning). Ignored for `:memory:`; refused for remote URLs.
   *
   * @example
   * createClient({ url: "opfs:notes.db", encryptionKey: "a 32-character random key......" })
   */
  encryptionKey?: string;
  /**
   * File format of an encrypted database (with `encryptionKey`):
   * - `"libsql"` (default): native libSQL's (`libsql`, `@libsql/client`
   *   open the same file with the same key, and the other way round);
   *   confidentiality only (AES-256-CBC, no integrity check);
   * - `"authenticated"`: libsql-web's own (XChaCha20-Poly1305 per page,
   *   Argon2id): a changed page fails with `ENCRYPTION_TAMPERED`, but native
   *   libSQL cannot open the file.
   * An existing database must be opened in the format it was made in; see
   * `rekeyDatabase` to change key or format.
   */
  encryptionFormat?: EncryptionFormat;
  /** Key of a Turso Cloud encrypted remote database, sent as `x-turso-encryption-key`. */
  remoteEncryptionKey?: string;
  /** URL of the primary this local database replicates (an embedded replica). */
  syncUrl?: string;
  /** Seconds between automatic syncs of a replica. */
  syncInterval?: number;
  /** With a replica, pull right after each write so that reads see it (default true). */
  readYourWrites?: boolean;
  /** With a replica, write locally and push later instead of writing to the primary. */
  offline?: boolean;
  /** For `libsql:` URLs: use TLS (default true); `?tls=0` in the URL overrides. */
  tls?: boolean;
  /** How integers are returned: `number` (default; RangeError beyond 2^53), `bigint` or `string`. */
  intMode?: IntMode;
  /** A `fetch` to use for remote requests. */
  // biome-ignore lint/complexity/noBannedTypes: the same loose type as @libsql/client's Config.
  fetch?: Function;
  /** Maximum concurrent remote requests (default 20). */
  concurrency?: number | undefined;
  /** Milliseconds a call waits for a lock held by another transaction before `SQLITE_BUSY` (default 5000). */
  timeout?: number;
  /**
   * Remote databases: the longest a call may take, in milliseconds (one HTTP request with its retries, or one
   * read of a cursor); `REQUEST_TIMEOUT` when exceeded. No limit by default.
   */
  remoteTimeout?: number;
  /** Remote databases: aborting it fails every call in flight and later with `REQUEST_ABORTED`. */
  signal?: AbortSignal;
  /** Storage for an `opfs:` URL: `opfs-sahpool` (default) or `opfs` (needs cross-origin isolation). */
  storage?: "opfs-sahpool" | "opfs";
  /** In browsers: a `Worker` or `MessagePort` already running libsql-web's worker entry. */
  worker?: Worker | MessagePort;
  /**
   * In browsers: on a cross-origin isolated page, calls and small results
   * travel through shared memory while the worker waits for them (a round
   * trip in ~a third of a `postMessage` one); `false` keeps to messages.
   * Default `true`; without cross-origin isolation it has no effect.
   */
  sharedLane?: boolean;
}

/** A value accepted as a statement argument. */
export type InValue = null | string | number | bigint | ArrayBuffer | boolean | Uint8Array | Date;

/** Arguments: positional (`?`) as an array, or named (`:name`, `@name`, `$name`) as an object. */
export type InArgs = Array<InValue> | Record<string, InValue>;

/** A statement: SQL text, or SQL with arguments. */
export type InStatement = { sql: string; args?: InArgs } | string;

/** A value returned in a row; integers follow `intMode`, blobs are `ArrayBuffer`s. */
export type Value = null | string | number | bigint | ArrayBuffer;

/**
 * A result row: values by column name (enumerable) and by index (`row[0]`),
 * with a `length`. When two columns share a name, the first wins.
 */
export interface Row {
  length: number;
  [index: number]: Value;
  [name: string]: Value;
}

/** The result of one statement. */
export interface ResultSet {
  /** Column names. */
  columns: Array<string>;
  /** Declared column types (`""` where there is none). */
  columnTypes: Array<string>;
  /** The rows. */
  rows: Array<Row>;
  /** Rows changed by an INSERT/UPDATE/DELETE that returns no rows; 0 otherwise. */
  rowsAffected: number;
  /** Rowid of the last inserted row, for statements that return no rows. */
  lastInsertRowid: bigint | undefined;
  /** A JSON-friendly copy: bigints as strings, blobs as base64. */
  // biome-ignore lint/suspicious/noExplicitAny: the same signature as @libsql/client.
  toJSON(): any;
}

/**
 * `write` → `BEGIN IMMEDIATE`, `read` → read-only, `deferred` → `BEGIN DEFERRED`,
 * `exclusive` → `BEGIN EXCLUSIVE`.
 */
export type TransactionMode = "write" | "read" | "deferred" | "exclusive";

/** What `sync()` reports: the replica's frame number and how many frames it applied. */
export type Replicated = { frame_no: number; frames_synced: number } | undefined;

/** Statements and scripts, as both clients and transactions run them. */
export interface Executor {
  /** Runs one statement. */
  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  /** Runs an SQL script of several statements, discarding rows. */
  executeMultiple(sql: string): Promise<void>;
  /** Prepares a statement for repeated use and introspection. */
  prepare(sql: string): Promise<Statement>;
  /** Streams the rows of a statement in chunks; `break` closes it. */
  cursor(stmt: InStatement, options?: CursorOptions): Promise<Cursor>;
  /** Last insert rowid, changes, total changes and autocommit state of the connection. */
  metadata(): Promise<Metadata>;
}

/** A database client. */
export interface Client extends Executor {
  /** Runs statements atomically in a transaction of `mode` (default `deferred`). */
  batch(stmts: Array<InStatement | [string, InArgs?]>, mode?: TransactionMode): Promise<Array<ResultSet>>;
  /** Runs migration statements in one transaction with foreign keys off. */
  migrate(stmts: Array<InStatement>): Promise<Array<ResultSet>>;
  /** Starts an interactive transaction (default mode `write`). */
  transaction(mode?: TransactionMode): Promise<Transaction>;
  /** Runs `body` in a transaction that commits when it resolves and rolls back when it throws. */
  transaction<T>(mode: TransactionMode, body: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Syncs an embedded replica; `SYNC_NOT_SUPPORTED` without one. */
  sync(): Promise<Replicated>;
  /** Closes the client and everything it opened. */
  close(): void;
  /** Closes and reopens the underlying connection. */
  reconnect(): void;
  /** True after `close()`. */
  closed: boolean;
  /** `file` (local), `http` (remote). */
  protocol: string;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** An interactive transaction. */
export interface Transaction extends Executor {
  /** Runs statements in order inside the transaction; stops at the first error without rolling back. */
  batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<Array<ResultSet>>;
  /** Runs `body` inside `SAVEPOINT`; rolls back to it if `body` throws. Nestable. */
  savepoint<T>(body: (sp: Transaction) => Promise<T>): Promise<T>;
  /** Rolls the transaction back and closes it. */
  rollback(): Promise<void>;
  /** Commits the transaction and closes it. */
  commit(): Promise<void>;
  /** Rolls back if not committed, and frees the transaction. Idempotent. */
  close(): void;
  /** True once committed, rolled back or closed. */
  closed: boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A prepared statement, cached per connection. */
export interface Statement {
  /** The SQL text. */
  readonly sql: string;
  /** Number of parameters. */
  readonly parameterCount: number;
  /** Parameter names by position (`":name"`, `"?3"`), null for a bare `?`. */
  readonly parameterNames: ReadonlyArray<string | null>;
  /** Result column names. */
  readonly columns: ReadonlyArray<string>;
  /** Declared types of the result columns (`""` where there is none). */
  readonly columnTypes: ReadonlyArray<string>;
  /** True when the statement does not write. */
  readonly readonly: boolean;
  /** Runs the statement and returns the whole result. */
  run(args?: InArgs): Promise<ResultSet>;
  /** Runs the statement and returns its rows. */
  all(args?: InArgs): Promise<Row[]>;
  /** Returns the first row, or undefined. */
  get(args?: InArgs): Promise<Row | undefined>;
  /** Streams the rows in chunks; `break` closes the cursor. */
  iterate(args?: InArgs, options?: CursorOptions): AsyncIterableIterator<Row>;
  /**
   * Runs the statement once per argument list, atomically (in a savepoint):
   * the bulk path for many inserts or updates. Returns the total
   * `rowsAffected` and the last `lastInsertRowid`, and no rows. A failing run
   * undoes them all and throws a `LibsqlBatchError` whose `statementIndex` is
   * the failing list's index. Any iterable of lists will do: an array is
   * checked whole first; another iterable (a generator, say) is taken as
   * the lists are sent, so that with the engine in a worker, the worker
   * starts on the first lists while the page still makes the next. An
   * error while taking them is thrown as it is, and no run is kept.
   *
   * @example
   * const insert = await tx.prepare("INSERT INTO t(a, b) VALUES (?, ?)");
   * await insert.runMany(rows.map((r) => [r.a, r.b]));
   * await insert.runMany((function* () { for (const r of rows) yield [r.a, r.b]; })());
   */
  runMany(argsList: Iterable<InArgs>): Promise<ResultSet>;
  /** Finalises the statement. */
  close(): Promise<void>;
  /** True once closed. */
  readonly closed: boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of a cursor. */
export interface CursorOptions {
  /** Rows fetched per round trip (default 4096). */
  chunkSize?: number;
}

/** Rows of a statement, fetched in chunks. */
export interface Cursor extends AsyncIterableIterator<Row> {
  /** Column names, known once the first chunk arrived. */
  readonly columns: ReadonlyArray<string>;
  /** Closes the cursor; iteration ends. */
  close(): Promise<void>;
  /** True once closed or exhausted. */
  readonly closed: boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Connection state. */
export interface Metadata {
  lastInsertRowid: bigint;
  changes: number;
  totalChanges: number;
  autocommit: boolean;
}

/**
 * What `rekeyDatabase` turns a database into: encrypted with `encryptionKey`
 * in `encryptionFormat` (default `libsql`), or plain with `encryptionKey: null`.
 */
export interface EncryptionTarget {
  /** The new key; null decrypts the database into a plain SQLite file. */
  encryptionKey: string | null;
  /** The new format (default `libsql`). */
  encryptionFormat?: EncryptionFormat;
}
