/**
 * The browser benchmark's workloads, shared by the page (through the client)
 * and the bench worker (raw C API): the same tables, statements and ids on
 * both sides, as in `shared/docs/browser-notes.md` and `bench/node/run.ts`.
 */

/** Rows inserted, then read back as one result. */
export const ROWS = 100_000;
/** Sequential point selects (round trips). */
export const SELECTS = 10_000;
/** Rows streamed through a cursor. */
export const STREAM_ROWS = 1_000_000;

export const CREATE = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)";
export const INSERT = "INSERT INTO t VALUES (?, ?, ?)";
export const POINT = "SELECT id, name, value FROM t WHERE id = ?";
export const READ_ALL = "SELECT id, name, value FROM t";
/** Fills `t` inside the engine (for the baselines that only read). */
export const FILL_T = `INSERT INTO t SELECT i, 'name-' || i, i * 1.5 FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) SELECT i FROM c)`;
export const CREATE_BIG = "CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT, value REAL)";
/** Fills `big` inside the engine (the stream workload measures reading, not writing). */
export const FILL_BIG = `INSERT INTO big SELECT i, 'name-' || i, i * 1.5 FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${STREAM_ROWS}) SELECT i FROM c)`;
export const STREAM = "SELECT id, name, value FROM big";

/** The `i`-th inserted row (1-based), as the client binds it: INTEGER id, TEXT name, REAL value. */
export function rowArgs(i: number): [bigint, string, number] {
  return [BigInt(i), `name-${i}`, i * 1.5];
}

/** Ids of the point selects: a fixed xorshift sequence over 1..ROWS. */
export function pointIds(): number[] {
  let x = 2463534242;
  return Array.from({ length: SELECTS }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % ROWS) + 1;
  });
}

/** A baseline the bench worker times: the raw C API, or libsql-web's engine called in the worker. */
export type BaselineOp =
  | "insert"
  | "points"
  | "read"
  | "stream"
  | "engine-insert"
  | "engine-run-many"
  | "engine-run-many-bound"
  | "engine-points"
  | "engine-read"
  | "engine-stream";

/** Messages the page sends to the bench worker. */
export type RawRequest = { op: "ping-port"; port: MessagePort } | { op: "open" } | { op: BaselineOp } | { op: "close" };

/** Milliseconds a baseline took, and the rows it saw. */
export interface Timed {
  ms: number;
  rows?: number;
}

/** The bench worker's answer: the timing, or the error. */
export type RawResponse = Timed | { error: string };

/**
 * In a bare round trip carrying a point select (`[HOT, id, OP_EXECUTE, conn,
 * stmt, intMode]`), the connection field tells the bench worker how to
 * answer: with a row built without an engine, or with its engine's result.
 */
export const FLOOR_BUILT = 0;
export const FLOOR_ENGINE = 1;

/** Round trips measured side by side, block after block ("-message": the shared lane turned off). */
export type TripKind =
  | "bare"
  | "bare-worker"
  | "bare-payload"
  | "bare-engine"
  | "stub"
  | "stub-message"
  | "transport"
  | "execute"
  | "execute-message"
  | "execute-message-port"
  | "get"
  | "get-message";

/** Every round trip kind, in the order a block starts with. */
export const TRIP_KINDS: TripKind[] = [
  "bare",
  "bare-worker",
  "bare-payload",
  "bare-engine",
  "stub",
  "stub-message",
  "transport",
  "execute",
  "execute-message",
  "execute-message-port",
  "get",
  "get-message",
];
