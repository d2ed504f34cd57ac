/**
 * The one error class of libsql-web. Every failure that reaches a caller is a
 * `LibsqlError` (or its subclass `LibsqlBatchError`), except the `TypeError` and
 * `RangeError` that `@libsql/client` also throws for bad arguments.
 *
 * `code` is stable: an SQLite primary result code name (`SQLITE_CONSTRAINT`), a
 * Hrana error code (`STREAM_EXPIRED`), or one of ours (`TRANSACTION_CLOSED`).
 * `extendedCode` carries the extended SQLite name (`SQLITE_CONSTRAINT_UNIQUE`) and
 * `rawCode` the numeric extended result code, as `@libsql/client` 0.17+ does.
 *
 * @example
 * try { await client.execute("INSERT INTO t VALUES (1)") }
 * catch (e) { if (e instanceof LibsqlError && e.code === "SQLITE_CONSTRAINT") … }
 */
export class LibsqlError extends Error {
  /** Stable machine-readable code, e.g. `SQLITE_CONSTRAINT` or `CLIENT_CLOSED`. */
  readonly code: string;
  /** Extended SQLite code name, e.g. `SQLITE_CONSTRAINT_UNIQUE`, when known. */
  readonly extendedCode: string | undefined;
  /** Numeric SQLite extended result code, when the error came from SQLite. */
  readonly rawCode: number | undefined;

  constructor(message: string, code: string, extendedCode?: string, rawCode?: number, cause?: unknown) {
    // The same message shape as @libsql/client: "<code>: <message>".
    super(message.startsWith(`${code}: `) ? message : `${code}: ${message}`, {
      cause,
    });
    this.name = "LibsqlError";
    this.code = code;
    this.extendedCode = extendedCode;
    this.rawCode = rawCode;
  }
}

/**
 * A failure of one statement inside `batch()`, `migrate()` or
 * `Transaction.batch()`; `statementIndex` is the 0-based index of the failing
 * statement in the caller's list.
 */
export class LibsqlBatchError extends LibsqlError {
  /** 0-based index of the statement that failed. */
  readonly statementIndex: number;

  constructor(
    message: string,
    statementIndex: number,
    code: string,
    extendedCode?: string,
    rawCode?: number,
    cause?: unknown,
  ) {
    super(message, code, extendedCode, rawCode, cause);
    this.name = "LibsqlBatchError";
    this.statementIndex = statementIndex;
  }
}

/** Codes libsql-web produces itself (SQLite and Hrana codes come from below). */
export const ErrorCode = {
  /** The client was closed. */
  CLIENT_CLOSED: "CLIENT_CLOSED",
  /** The transaction was committed, rolled back or closed. */
  TRANSACTION_CLOSED: "TRANSACTION_CLOSED",
  /** A prepared statement was finalised or its owner closed. */
  STATEMENT_CLOSED: "STATEMENT_CLOSED",
  /** A cursor was closed or its owner closed. */
  CURSOR_CLOSED: "CURSOR_CLOSED",
  /** A handle was used through a connection that does not own it, or is unknown. */
  MISUSE: "MISUSE",
  /** The URL could not be parsed or is inconsistent with the config. */
  URL_INVALID: "URL_INVALID",
  /** A URL query parameter is not supported. */
  URL_PARAM_NOT_SUPPORTED: "URL_PARAM_NOT_SUPPORTED",
  /** The URL scheme is not supported by this entry point. */
  URL_SCHEME_NOT_SUPPORTED: "URL_SCHEME_NOT_SUPPORTED",
  /** `encryptionKey` is not supported for this kind of database. */
  ENCRYPTION_KEY_NOT_SUPPORTED: "ENCRYPTION_KEY_NOT_SUPPORTED",
  /** `sync()` was called on a client without a replica. */
  SYNC_NOT_SUPPORTED: "SYNC_NOT_SUPPORTED",
  /** Persistent storage was asked for and is not available here. */
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  /** The engine's worker died, errored or was terminated. */
  WORKER_TERMINATED: "WORKER_TERMINATED",
  /** A pushed offline change was rejected by the primary. */
  SYNC_CONFLICT: "SYNC_CONFLICT",
  /** Arguments do not match the statement's parameters. */
  ARGS_INVALID: "ARGS_INVALID",
  /** Both positional and named arguments were given. */
  ARGS_BOTH_POSITIONAL_AND_NAMED: "ARGS_BOTH_POSITIONAL_AND_NAMED",
  /** The SQL text holds no statement. */
  SQL_NO_STATEMENT: "SQL_NO_STATEMENT",
  /** The SQL text holds more than one statement where one is expected. */
  SQL_MANY_STATEMENTS: "SQL_MANY_STATEMENTS",
  /** A batch's conditions refer to the current or a later step, or are malformed. */
  BATCH_INVALID: "BATCH_INVALID",
  /** The database is in use (open here, or held by another tab or worker). */
  STORAGE_BUSY: "STORAGE_BUSY",
  /** The server answered with an HTTP error status and no Hrana error code (as @libsql/client). */
  SERVER_ERROR: "SERVER_ERROR",
  /** The server's answer does not follow the Hrana protocol (as @libsql/client). */
  HRANA_PROTO_ERROR: "HRANA_PROTO_ERROR",
  /** The remote stream was closed (as @libsql/client). */
  HRANA_CLOSED_ERROR: "HRANA_CLOSED_ERROR",
  /** A remote request could not be completed: no connection, or the connection broke. */
  NETWORK_ERROR: "NETWORK_ERROR",
  /** A remote call took longer than `remoteTimeout`. */
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  /** The config's `signal` aborted a remote call. */
  REQUEST_ABORTED: "REQUEST_ABORTED",
  /** An encrypted page failed its authentication check: the file was changed or damaged. */
  ENCRYPTION_TAMPERED: "ENCRYPTION_TAMPERED",
  /** The encryption key is unusable (empty, or not a string). */
  ENCRYPTION_KEY_INVALID: "ENCRYPTION_KEY_INVALID",
  /** The engine could not be loaded or initialised. */
  ENGINE_INIT_FAILED: "ENGINE_INIT_FAILED",
  /** An unexpected internal failure; the message says what. */
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;

/** Shorthand for `new LibsqlError(message, code, undefined, undefined, cause)`. */
export function libsqlError(code: string, message: string, cause?: unknown): LibsqlError {
  return new LibsqlError(message, code, undefined, undefined, cause);
}
