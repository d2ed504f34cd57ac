/**
 * The three kinds of failure the server tells apart, as sqld does:
 *
 * - `ProtocolError`: the client broke the protocol (bad JSON, bad baton, unknown `sql_id`).
 *   HTTP 400 `text/plain`; raised while a stream is held, it discards the stream.
 * - `StreamExpiredError`: HTTP 400 `application/json` with code `STREAM_EXPIRED`.
 * - `StmtError`: a statement or request failed; it becomes a `{"type":"error"}` result,
 *   a batch `step_errors` slot or a cursor `step_error`, and the stream lives on.
 */

/** A violation of the Hrana protocol; answered with HTTP 400 and a plain-text message. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** The baton named a stream that expired for inactivity. */
export class StreamExpiredError extends Error {
  readonly code = "STREAM_EXPIRED";
  constructor() {
    super("The stream has expired due to inactivity");
    this.name = "StreamExpiredError";
  }
}

/** An error reported inside a Hrana response as `{message, code}`. */
export class StmtError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = "StmtError";
    this.code = code;
  }

  /** The wire form, `{"message": ..., "code": ...}`. */
  toProto(): { message: string; code: string } {
    return { message: this.message, code: this.code };
  }
}

// sqld (through rusqlite's `ErrorCode`) names only primary result codes, and has no
// name for SQLITE_ERROR, SQLITE_EMPTY, SQLITE_FORMAT, SQLITE_NOTICE or SQLITE_WARNING:
// those all come out as SQLITE_UNKNOWN.
const PRIMARY_NAMES: Record<number, string> = {
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  12: "SQLITE_NOTFOUND",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  22: "SQLITE_NOLFS",
  23: "SQLITE_AUTH",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
};

/** sqld's name for an SQLite result code: the primary code's name, else SQLITE_UNKNOWN. */
export function primaryCodeName(rawCode: number): string {
  return PRIMARY_NAMES[rawCode & 0xff] ?? "SQLITE_UNKNOWN";
}

/** The shape of errors thrown by the native `libsql` package. */
export interface NativeSqliteError {
  message: string;
  code: string;
  rawCode: number;
}

/** True for an error thrown by SQLite through the native package. */
export function isNativeSqliteError(e: unknown): e is NativeSqliteError {
  return (
    e instanceof Error &&
    typeof (e as Partial<NativeSqliteError>).code === "string" &&
    typeof (e as Partial<NativeSqliteError>).rawCode === "number"
  );
}

// Messages SQLite's tokenizer and parser produce; sqld's own SQLite-grammar parser
// rejects the same texts before SQLite sees them.
const SYNTAX_ERROR = /(^near ".*": syntax error$)|(^incomplete input$)|(^unrecognized token: )/s;

/**
 * Maps a failure to sqld's statement error. The rule, written once:
 *
 * - While preparing: a syntax error (what sqld's parser would reject first) is
 *   `SQL_PARSE_ERROR` "SQL string could not be parsed: <msg>"; any other SQLITE_ERROR
 *   (no such table/column, table already exists, ...) is `SQL_INPUT_ERROR`
 *   "SQL input error: <msg>" — sqld adds " (at offset N)", which the native package cannot
 *   tell us; other result codes are treated as below.
 * - While running: `SQLite error: <msg>` with the primary code's name, plain SQLITE_ERROR
 *   becoming SQLITE_UNKNOWN.
 */
export function stmtErrorFromSqlite(e: NativeSqliteError, phase: "prepare" | "run"): StmtError {
  if (phase === "prepare" && (e.rawCode & 0xff) === 1) {
    if (SYNTAX_ERROR.test(e.message))
      return new StmtError(`SQL string could not be parsed: ${e.message}`, "SQL_PARSE_ERROR");
    return new StmtError(`SQL input error: ${e.message}`, "SQL_INPUT_ERROR");
  }
  return new StmtError(`SQLite error: ${e.message}`, primaryCodeName(e.rawCode));
}

/** True when a prepare-time error is one sqld's parser would have rejected. */
export function isSyntaxError(e: NativeSqliteError): boolean {
  return (e.rawCode & 0xff) === 1 && SYNTAX_ERROR.test(e.message);
}
