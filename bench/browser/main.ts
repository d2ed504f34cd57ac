/**
 * The browser benchmark's page: runs each workload through libsql-web's
 * client (the engine in its worker) and asks the bench worker for the
 * baselines of the same workload. `run.ts` drives it through `window.bench`.
 */
import type { Client } from "../../src/api.js";
import { createClient } from "../../src/browser.js";
import { receivedRow } from "../../src/received-rows.js";
import { encodeStmt, type StmtResultWire } from "../../src/worker/hot-wire.js";
import { connectWorker, openWorkerTransport, type WorkerTransport } from "../../src/worker/open-worker-transport.js";
import { openWorkerChannel } from "../../src/worker/worker-channel.js";
import { WorkerEngine } from "../../src/worker/worker-engine.js";
import { ANSWER_RESULT, HOT, type HotRequest, type HotResponse, OP_EXECUTE } from "../../src/worker/worker-protocol.js";
import {
  type BaselineOp,
  CREATE,
  CREATE_BIG,
  FILL_BIG,
  FILL_T,
  FLOOR_BUILT,
  FLOOR_ENGINE,
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
  TRIP_KINDS,
  type TripKind,
} from "./workload.js";

/** Ways of inserting ROWS rows in one transaction through the client. */
export type InsertPath = "run-many" | "run-many-generator" | "tx-prepared-run" | "tx-execute" | "batch" | "tx-batch";

let engineWorker: Worker | undefined;
let client: Client | undefined;
/** A client on a worker of its own that keeps to messages (no shared lane). */
let messageClient: Client | undefined;
/** The same, on a `MessagePort` to that worker (`connectWorker`) rather than a channel on its own messages. */
let portClient: Client | undefined;
let messageWorker: Worker | undefined;
let transport: WorkerTransport | undefined;
let raw: Worker | undefined;
let ping: MessagePort | undefined;
let stub: WorkerEngine | undefined;
let stubMessage: WorkerEngine | undefined;
const ids = pointIds();

function active(): Client {
  if (!client) throw new Error("call bench.start() first");
  return client;
}

function ask(request: RawRequest, transfer: Transferable[] = []): Promise<Timed> {
  const worker = raw as Worker;
  return new Promise((resolve, reject) => {
    // The worker's own channel also carries the stub's channels and the bare round trips: take the answer only.
    const listener = (event: MessageEvent<RawResponse | unknown[] | number>) => {
      const data = event.data;
      if (typeof data !== "object" || Array.isArray(data)) return;
      worker.removeEventListener("message", listener);
      if ("error" in data) reject(new Error(data.error));
      else resolve(data);
    };
    worker.addEventListener("message", listener);
    worker.postMessage(request, transfer);
  });
}

async function time(body: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

async function count(table: string): Promise<number> {
  const rs = await active().execute(`SELECT count(*) AS n FROM ${table}`);
  return Number(rs.rows[0]?.n);
}

/** `n` sequential bare `postMessage` round trips to the bench worker (on a `MessagePort`, as the client uses). */
function bare(n: number): Promise<number> {
  const port = ping as MessagePort;
  return new Promise((resolve) => {
    let left = n;
    const started = performance.now();
    port.onmessage = () => {
      if (--left === 0) resolve(performance.now() - started);
      else port.postMessage(left);
    };
    port.postMessage(left);
  });
}

/** `n` sequential bare round trips on the bench worker's own channel (`worker.postMessage`, as the client uses). */
function bareWorker(n: number): Promise<number> {
  const worker = raw as Worker;
  return new Promise((resolve) => {
    let left = n;
    const started = performance.now();
    const listener = (event: MessageEvent) => {
      if (typeof event.data !== "number") return;
      if (--left > 0) {
        worker.postMessage(left);
        return;
      }
      worker.removeEventListener("message", listener);
      resolve(performance.now() - started);
    };
    worker.addEventListener("message", listener);
    worker.postMessage(left);
  });
}

/**
 * `n` sequential bare round trips on the bench worker's own channel carrying
 * what a point select carries: the request the client posts, the answer the
 * worker posts back. `answer` `FLOOR_BUILT`: the row is built there without
 * an engine (the floor for calls made by message); `FLOOR_ENGINE`: the
 * worker's engine runs the select and its result is posted as
 * `serveHotCalls` encodes it (the floor for such calls that run SQL).
 */
function barePayload(from: number, n: number, answer: number): Promise<number> {
  const worker = raw as Worker;
  return new Promise((resolve, reject) => {
    let i = from;
    const post = () => {
      const stmt = encodeStmt({ sql: POINT, args: [ids[i % ids.length] as number] });
      worker.postMessage([HOT, i, OP_EXECUTE, answer, stmt, "number"] satisfies HotRequest);
    };
    const started = performance.now();
    const listener = (event: MessageEvent) => {
      const data = event.data as HotResponse;
      if (!Array.isArray(data) || data[0] !== HOT) return;
      if (data[2] !== ANSWER_RESULT) {
        worker.removeEventListener("message", listener);
        reject(new Error(`round trip ${i} failed: ${String(data[3])}`));
        return;
      }
      const rows = (data[3] as StmtResultWire)[2] as unknown[][];
      if (rows[0]?.[0] !== ids[i % ids.length]) reject(new Error(`wrong answer for ${i}`));
      if (++i < from + n) {
        post();
        return;
      }
      worker.removeEventListener("message", listener);
      resolve(performance.now() - started);
    };
    worker.addEventListener("message", listener);
    post();
  });
}

/** `n` sequential point selects of one kind, starting at `ids[from]`. */
async function trips(kind: TripKind, from: number, n: number): Promise<number> {
  if (kind === "bare") return bare(n);
  if (kind === "bare-worker") return bareWorker(n);
  if (kind === "bare-payload") return barePayload(from, n, FLOOR_BUILT);
  if (kind === "bare-engine") return barePayload(from, n, FLOOR_ENGINE);
  if (kind === "stub" || kind === "stub-message") {
    const engine = (kind === "stub" ? stub : stubMessage) as WorkerEngine;
    return time(async () => {
      for (let i = from; i < from + n; i++)
        await engine.execute(0, { sql: POINT, args: [ids[i % ids.length] as number] }, "number");
    });
  }
  const message = kind === "execute-message" || kind === "get-message";
  const c = kind === "execute-message-port" ? (portClient as Client) : message ? (messageClient as Client) : active();
  const t = transport as WorkerTransport;
  const stmt = kind === "get" || kind === "get-message" ? await c.prepare(POINT) : undefined;
  try {
    return await time(async () => {
      for (let i = from; i < from + n; i++) {
        const id = ids[i % ids.length] as number;
        let found: unknown;
        if (kind === "transport")
          found = receivedRow((await t.main.execute({ sql: POINT, args: [id] }, "number")).rows, 0);
        else if (kind === "execute" || kind === "execute-message" || kind === "execute-message-port")
          found = (await c.execute({ sql: POINT, args: [id] })).rows[0];
        else found = await stmt?.get([id]);
        if (found === undefined) throw new Error(`no row ${id}`);
      }
    });
  } finally {
    await stmt?.close();
  }
}

const bench = {
  /**
   * Starts libsql-web's engine worker with a client on a memory database and
   * a bare worker transport on another (to tell the client's cost from the
   * transport's), and the bench worker with its own databases.
   */
  async start(): Promise<{ clientMs: number; rawMs: number; crossOriginIsolated: boolean; laneAnswers: number }> {
    const started = performance.now();
    engineWorker = new Worker(new URL("../../worker/main.js", import.meta.url), { type: "module", name: "libsql-web" });
    client = createClient({ url: ":memory:", worker: engineWorker });
    await client.execute(CREATE);
    await client.execute(FILL_T);
    await client.execute(CREATE_BIG);
    await client.execute(FILL_BIG);
    transport = await openWorkerTransport({ storage: "memory", path: "", worker: engineWorker });
    for (const sql of [CREATE, FILL_T]) await transport.main.execute({ sql }, "number");
    messageWorker = new Worker(new URL("../../worker/main.js", import.meta.url), {
      type: "module",
      name: "libsql-web-messages",
    });
    messageClient = createClient({ url: ":memory:", worker: messageWorker, sharedLane: false });
    for (const sql of [CREATE, FILL_T]) await messageClient.execute(sql);
    portClient = createClient({ url: ":memory:", worker: connectWorker(messageWorker), sharedLane: false });
    for (const sql of [CREATE, FILL_T]) await portClient.execute(sql);
    const clientMs = performance.now() - started;
    raw = new Worker(new URL("./raw-worker.ts", import.meta.url), { type: "module", name: "bench-raw" });
    const { ms: rawMs } = await ask({ op: "open" });
    const channel = new MessageChannel();
    await ask({ op: "ping-port", port: channel.port2 }, [channel.port2]);
    ping = channel.port1;
    stub = new WorkerEngine(openWorkerChannel(raw));
    stubMessage = new WorkerEngine(openWorkerChannel(raw), { sharedLane: false });
    // Two calls: the second finds the worker waiting on the lane, to see that it works here.
    for (let i = 0; i < 2; i++) await stub.execute(0, { sql: POINT, args: [1] }, "number");
    return { clientMs, rawMs, crossOriginIsolated, laneAnswers: stub.laneAnswers };
  },

  /**
   * Round trips of every kind, `blocks` blocks of `perBlock` each, the kinds
   * taking turns within a block (their order rotating), so that a slow
   * moment of this shared machine hits them alike. Milliseconds per block.
   */
  async roundTrips(blocks: number, perBlock: number): Promise<Record<TripKind, number[]>> {
    const out = Object.fromEntries(TRIP_KINDS.map((kind) => [kind, [] as number[]])) as Record<TripKind, number[]>;
    for (let b = 0; b < blocks; b++) {
      for (let k = 0; k < TRIP_KINDS.length; k++) {
        const kind = TRIP_KINDS[(b + k) % TRIP_KINDS.length] as TripKind;
        out[kind].push(await trips(kind, b * perBlock, perBlock));
      }
    }
    return out;
  },

  /** Inserts ROWS rows in one transaction along `path`; the table is emptied first. */
  async insert(path: InsertPath): Promise<number> {
    const c = active();
    await c.execute("DELETE FROM t");
    const ms = await time(async () => {
      switch (path) {
        case "run-many": {
          const lists = new Array(ROWS);
          for (let i = 0; i < ROWS; i++) lists[i] = rowArgs(i + 1);
          await (await c.prepare(INSERT)).runMany(lists);
          return;
        }
        case "run-many-generator": {
          // The lists made as they are sent: the worker starts on the first part while the page makes the next.
          const lists = function* () {
            for (let i = 1; i <= ROWS; i++) yield rowArgs(i);
          };
          await (await c.prepare(INSERT)).runMany(lists());
          return;
        }
        case "tx-prepared-run":
          await c.transaction("write", async (tx) => {
            const stmt = await tx.prepare(INSERT);
            for (let i = 1; i <= ROWS; i++) await stmt.run(rowArgs(i));
          });
          return;
        case "tx-execute":
          await c.transaction("write", async (tx) => {
            for (let i = 1; i <= ROWS; i++) await tx.execute({ sql: INSERT, args: rowArgs(i) });
          });
          return;
        case "batch": {
          const stmts = new Array(ROWS);
          for (let i = 0; i < ROWS; i++) stmts[i] = { sql: INSERT, args: rowArgs(i + 1) };
          await c.batch(stmts, "write");
          return;
        }
        case "tx-batch":
          await c.transaction("write", async (tx) => {
            const stmts = new Array(ROWS);
            for (let i = 0; i < ROWS; i++) stmts[i] = { sql: INSERT, args: rowArgs(i + 1) };
            await tx.batch(stmts);
          });
          return;
      }
    });
    const n = await count("t");
    if (n !== ROWS) throw new Error(`${path} inserted ${n} rows`);
    return ms;
  },

  /** Reads the ROWS rows of `t` as one result. */
  read(): Promise<number> {
    return time(async () => {
      const rs = await active().execute(READ_ALL);
      if (rs.rows.length !== ROWS) throw new Error(`read ${rs.rows.length} rows`);
    });
  },

  /** Streams the STREAM_ROWS rows of `big` through a cursor of `chunkSize` rows, touching each row. */
  stream(chunkSize: number): Promise<number> {
    return time(async () => {
      let n = 0;
      let sum = 0;
      for await (const row of await active().cursor(STREAM, { chunkSize })) {
        sum += row.id as number;
        n++;
      }
      if (n !== STREAM_ROWS || sum !== (STREAM_ROWS * (STREAM_ROWS + 1)) / 2) throw new Error(`streamed ${n} rows`);
    });
  },

  /** A baseline, timed inside the bench worker. */
  async baseline(op: BaselineOp): Promise<number> {
    return (await ask({ op })).ms;
  },

  /** Closes the clients and both workers. */
  async stop(): Promise<void> {
    await ask({ op: "close" });
    raw?.terminate();
    ping?.close();
    stub?.end("was stopped");
    stubMessage?.end("was stopped");
    messageClient?.close();
    portClient?.close();
    messageWorker?.terminate();
    await transport?.close();
    client?.close();
    client = undefined;
    engineWorker?.terminate();
  },
};

/** The benchmark page's API, driven by `run.ts`. */
export type BenchPage = typeof bench;

declare global {
  interface Window {
    bench: BenchPage;
  }
}

window.bench = bench;
