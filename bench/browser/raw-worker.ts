/**
 * The bench worker: the baselines, run inside a dedicated worker on the same
 * optimised wasm as libsql-web's engine worker, on memory databases. "raw"
 * drives the C API directly (no engine, no client, no messages per row);
 * "engine" calls libsql-web's `Engine` in this worker (no messages), which
 * splits the client's cost into the engine's and the worker boundary's. It
 * also echoes messages, on a port and on its own channel, for the bare
 * `postMessage` round trips, and serves a stub engine on channels of its own.
 * Benchmark-only: libsql-web's own worker entry knows nothing of it.
 */
import { atomicBatch } from "../../src/batch.js";
import type { StmtResult } from "../../src/proto.js";
import {
  decodeArgsList,
  decodeStmt,
  encodeArgsList,
  encodeStmtResult,
  type RowsWire,
  rowCount,
  type StmtResultWire,
  type StmtWire,
} from "../../src/worker/hot-wire.js";
import { serveHotCalls } from "../../src/worker/serve-hot-calls.js";
import { type ChannelPort, WorkerChannels } from "../../src/worker/worker-channel.js";
import {
  ANSWER_ERROR,
  ANSWER_RESULT,
  HOT,
  type HotRequest,
  type HotResponse,
} from "../../src/worker/worker-protocol.js";
import { loadBrowserSqlite } from "../../worker/browser/load-browser-sqlite.js";
import { Engine } from "../../worker/engine.js";
import { packedRows } from "../../worker/row-format.js";
import { openHandle } from "../../worker/sqlite/open-handle.js";
import { SQLITE } from "../../worker/sqlite/raw-exports.js";
import { Sqlite } from "../../worker/sqlite/sqlite.js";
import type { Sqlite3Module } from "../../worker/sqlite/sqlite3-module.js";
import {
  CREATE,
  CREATE_BIG,
  FILL_BIG,
  FILL_T,
  FLOOR_BUILT,
  INSERT,
  POINT,
  pointIds,
  type RawRequest,
  type RawResponse,
  READ_ALL,
  ROWS,
  rowArgs,
  STREAM,
  STREAM_ROWS,
  type Timed,
} from "./workload.js";

let sqlite: Sqlite | undefined;
let db = 0;
/** libsql-web's engine as the browser worker builds it: rows packed for the page. */
let engine: Engine<RowsWire> | undefined;
let conn = 0;

function exec(sql: string): void {
  const s = sqlite as Sqlite;
  s.check(db, s.x.sqlite3_exec(db, s.encode(sql), 0, 0, 0));
}

function prepare(sql: string): number {
  const s = sqlite as Sqlite;
  const p = s.encode(sql);
  s.check(db, s.x.sqlite3_prepare_v2(db, p, s.lastLength + 1, s.out, 0));
  return s.i32[s.out >> 2] as number;
}

/** Reads the current row as the engine returns rows: an array of values. */
function readRow(stmt: number): unknown[] {
  const s = sqlite as Sqlite;
  const { x } = s;
  return [
    x.sqlite3_column_double(stmt, 0),
    s.decode(x.sqlite3_column_text(stmt, 1), x.sqlite3_column_bytes(stmt, 1)),
    x.sqlite3_column_double(stmt, 2),
  ];
}

async function time(body: () => number | undefined | Promise<number | undefined>): Promise<Timed> {
  const started = performance.now();
  const rows = await body();
  return { ms: performance.now() - started, ...(rows === undefined ? {} : { rows }) };
}

async function open(): Promise<Timed> {
  const started = performance.now();
  const module: Sqlite3Module = await loadBrowserSqlite();
  sqlite = new Sqlite(module);
  db = openHandle(sqlite, ":memory:", null);
  exec(CREATE);
  exec(CREATE_BIG);
  exec(FILL_BIG);
  exec(FILL_T);
  engine = new Engine({ loadSqlite: async () => module, rows: packedRows });
  conn = await engine.open({ storage: "memory", path: "" });
  for (const sql of [CREATE, FILL_T, CREATE_BIG, FILL_BIG]) await engine.execute(conn, { sql }, "number");
  return { ms: performance.now() - started };
}

function insert(): Promise<Timed> {
  const s = sqlite as Sqlite;
  const { x } = s;
  exec("DELETE FROM t");
  return time(() => {
    exec("BEGIN");
    const stmt = prepare(INSERT);
    for (let i = 1; i <= ROWS; i++) {
      x.sqlite3_bind_int64(stmt, 1, BigInt(i));
      const p = s.encode(`name-${i}`);
      x.sqlite3_bind_text(stmt, 2, p, s.lastLength, SQLITE.TRANSIENT);
      x.sqlite3_bind_double(stmt, 3, i * 1.5);
      if (x.sqlite3_step(stmt) !== SQLITE.DONE) throw s.error(db, x.sqlite3_reset(stmt));
      x.sqlite3_reset(stmt);
    }
    x.sqlite3_finalize(stmt);
    exec("COMMIT");
    return ROWS;
  });
}

function points(): Promise<Timed> {
  const { x } = sqlite as Sqlite;
  const ids = pointIds();
  const stmt = prepare(POINT);
  return time(() => {
    let found = 0;
    for (const id of ids) {
      x.sqlite3_bind_int64(stmt, 1, BigInt(id));
      if (x.sqlite3_step(stmt) === SQLITE.ROW && readRow(stmt).length === 3) found++;
      x.sqlite3_reset(stmt);
    }
    return found;
  }).finally(() => x.sqlite3_finalize(stmt));
}

/** Reads every row of `sql`; `keep` collects them into one array (a result), else each row is dropped. */
function scan(sql: string, keep: boolean): Promise<Timed> {
  const { x } = sqlite as Sqlite;
  const stmt = prepare(sql);
  return time(() => {
    const rows: unknown[][] = [];
    let n = 0;
    while (x.sqlite3_step(stmt) === SQLITE.ROW) {
      const row = readRow(stmt);
      if (keep) rows.push(row);
      n++;
    }
    return keep ? rows.length : n;
  }).finally(() => x.sqlite3_finalize(stmt));
}

async function engineInsert(): Promise<Timed> {
  const e = engine as Engine<RowsWire>;
  await e.execute(conn, { sql: "DELETE FROM t" }, "number");
  return time(async () => {
    const stmts = new Array(ROWS);
    for (let i = 0; i < ROWS; i++) stmts[i] = { sql: INSERT, args: rowArgs(i + 1) };
    const { steps } = atomicBatch(stmts, "write");
    const result = await e.batch(conn, steps, "number");
    if (result.stepErrors.some((error) => error !== null)) throw new Error("engine batch failed");
    return ROWS;
  });
}

/**
 * The client's `runMany` without the worker boundary: the same argument
 * lists, packed as the page packs them and read back as the worker does,
 * bound and run by the engine in one call. `packedFirst`: the lists are
 * made and packed before the clock starts, which leaves the worker's own
 * share of the client's insert (binding and running them).
 */
async function engineRunMany(packedFirst: boolean): Promise<Timed> {
  const e = engine as Engine<RowsWire>;
  await e.execute(conn, { sql: "DELETE FROM t" }, "number");
  const { stmtId } = await e.prepare(conn, INSERT);
  const pack = () => {
    const lists = new Array(ROWS);
    for (let i = 0; i < ROWS; i++) lists[i] = rowArgs(i + 1);
    return decodeArgsList(encodeArgsList(lists, [])) as never;
  };
  const packed = packedFirst ? pack() : undefined;
  try {
    return await time(async () => (await e.runMany(conn, stmtId, packed ?? pack())).rowsAffected);
  } finally {
    await e.finalize(conn, stmtId);
  }
}

function enginePoints(): Promise<Timed> {
  const e = engine as Engine<RowsWire>;
  const ids = pointIds();
  return time(async () => {
    let found = 0;
    for (const id of ids) found += rowCount((await e.execute(conn, { sql: POINT, args: [id] }, "number")).rows);
    return found;
  });
}

function engineRead(): Promise<Timed> {
  return time(async () =>
    rowCount((await (engine as Engine<RowsWire>).execute(conn, { sql: READ_ALL }, "number")).rows),
  );
}

function engineStream(): Promise<Timed> {
  const e = engine as Engine<RowsWire>;
  return time(async () => {
    const cursor = await e.openCursor(conn, [{ stmt: { sql: STREAM } }], "number");
    let n = 0;
    for (;;) {
      const chunk = await e.fetchCursor(conn, cursor, 1000);
      for (const entry of chunk.entries) if (entry.type === "rows") n += rowCount(entry.rows);
      if (chunk.done) return n;
    }
  });
}

/**
 * Serves libsql-web's hot calls on `port` with an engine that does no work:
 * every `execute` answers the same point-select-shaped result. Round trips
 * to it measure the worker protocol alone (messages, encoding, promises).
 */
function serveStub(port: ChannelPort): void {
  const result = (args: unknown): StmtResult => ({
    columns: ["id", "name", "value"],
    columnTypes: ["INTEGER", "TEXT", "REAL"],
    rows: [[Array.isArray(args) ? (args[0] as number) : 0, "name-1", 1.5]],
    rowsAffected: 0,
    lastInsertRowid: undefined,
  });
  const refuse = () => Promise.reject(new Error("the stub engine only executes"));
  serveHotCalls(port, {
    execute: async (_conn, stmt) => result(stmt.args),
    query: async (_conn, _stmt, args) => result(args),
    batch: refuse,
    runMany: refuse,
    fetchCursor: refuse,
  });
}

/**
 * Answers a bare round trip's point select (see `FLOOR_BUILT`): with the
 * message `serveHotCalls` would send, built without an engine, or with the
 * engine's own result, encoded as `serveHotCalls` encodes it, but with none
 * of the protocol's code around the call.
 */
function answerPoint(request: HotRequest): void {
  if (request[3] === FLOOR_BUILT) {
    postMessage(pointAnswer(request));
    return;
  }
  (engine as Engine<RowsWire>).execute(conn, decodeStmt(request[4] as StmtWire), "number").then(
    (result) => {
      const transfer: Transferable[] = [];
      postMessage([HOT, request[1], ANSWER_RESULT, encodeStmtResult(result, transfer)] satisfies HotResponse, {
        transfer,
      });
    },
    (error: unknown) => postMessage([HOT, request[1], ANSWER_ERROR, String(error)]),
  );
}

/** The message `serveHotCalls` answers a point select with, built without an engine. */
function pointAnswer(request: HotRequest): HotResponse {
  const id = ((request[4] as StmtWire)[1] as number[])[0] as number;
  const result: StmtResultWire = [
    ["id", "name", "value"],
    ["INTEGER", "TEXT", "REAL"],
    [[id, `name-${id}`, id * 1.5]],
    0,
    undefined,
  ];
  return [HOT, request[1], ANSWER_RESULT, result];
}

function close(): Timed {
  if (db) (sqlite as Sqlite).x.sqlite3_close_v2(db);
  db = 0;
  void engine?.close(conn);
  return { ms: 0 };
}

async function handle(request: RawRequest): Promise<Timed> {
  switch (request.op) {
    case "ping-port": {
      const { port } = request;
      port.onmessage = (event) => port.postMessage(event.data);
      return { ms: 0 };
    }
    case "open":
      return open();
    case "insert":
      return insert();
    case "points":
      return points();
    case "read":
      return scan(READ_ALL, true);
    case "stream": {
      const result = await scan(STREAM, false);
      if (result.rows !== STREAM_ROWS) throw new Error(`streamed ${result.rows} rows`);
      return result;
    }
    case "engine-insert":
      return engineInsert();
    case "engine-run-many":
      return engineRunMany(false);
    case "engine-run-many-bound":
      return engineRunMany(true);
    case "engine-points":
      return enginePoints();
    case "engine-read":
      return engineRead();
    case "engine-stream": {
      const result = await engineStream();
      if (result.rows !== STREAM_ROWS) throw new Error(`streamed ${result.rows} rows`);
      return result;
    }
    case "close":
      return close();
  }
}

/** The stub engine on channels of this worker's own messages, as the client talks to its worker (`worker-channel.ts`). */
const channels = new WorkerChannels((message, transfer) => postMessage(message, { transfer }), serveStub);

addEventListener("message", (event: MessageEvent<RawRequest | HotRequest | number>) => {
  const data = event.data;
  if (channels.receive(data)) return;
  // The bare round trips on this worker's own channel: a number, or a point select's request.
  if (typeof data === "number") {
    postMessage(data);
    return;
  }
  if (Array.isArray(data)) {
    answerPoint(data);
    return;
  }
  handle(data).then(
    (response) => postMessage(response),
    (error: unknown) => postMessage({ error: String((error as Error)?.stack ?? error) } satisfies RawResponse),
  );
});
