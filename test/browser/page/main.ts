/**
 * The browser tests' page: puts the page-side API and a few helpers on
 * `window.lib`; the tests drive it with Playwright's `page.evaluate`.
 */
import { createClient } from "../../../src/browser.js";
import { LibsqlBatchError, LibsqlError } from "../../../src/errors.js";
import { receivedArrays } from "../../../src/received-rows.js";
import {
  connectWorker,
  openWorkerTransport,
  type WorkerTransportOptions,
} from "../../../src/worker/open-worker-transport.js";
import type { LaneTiming } from "../../../src/worker/shared-lane.js";
import {
  deleteWorkerDatabase,
  importWorkerDatabase,
  rekeyWorkerDatabase,
} from "../../../src/worker/worker-database-files.js";
import { WorkerEngine } from "../../../src/worker/worker-engine.js";
import { fromBase64, readOpfsFiles, sahpoolFiles, scanOpfs, toBase64, writeOpfsFiles } from "./opfs-files.js";

/** What a thrown value looked like in the page (errors do not survive `page.evaluate` whole). */
export interface ThrownInfo {
  className: string;
  name: string;
  message: string;
  code?: string;
  extendedCode?: string;
  rawCode?: number;
  statementIndex?: number;
  isLibsqlError: boolean;
  isLibsqlBatchError: boolean;
  isRangeError: boolean;
}

function describeThrown(error: unknown): ThrownInfo {
  const e = error as Error & Partial<LibsqlBatchError>;
  return {
    className: e?.constructor?.name ?? typeof error,
    name: e?.name ?? "",
    message: e?.message ?? String(error),
    code: e?.code,
    extendedCode: e?.extendedCode,
    rawCode: e?.rawCode,
    statementIndex: e?.statementIndex,
    isLibsqlError: error instanceof LibsqlError,
    isLibsqlBatchError: error instanceof LibsqlBatchError,
    isRangeError: error instanceof RangeError,
  };
}

/** Awaits `promise`; the thrown value, described, or null when it resolved. */
async function thrown(promise: Promise<unknown>): Promise<ThrownInfo | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return describeThrown(error);
  }
}

const workers = {
  /** The engine's worker, as `openWorkerTransport` would start it. */
  engine: () => new Worker(new URL("../../../worker/main.js", import.meta.url), { type: "module" }),
  /** The engine's worker in a scope without OPFS. */
  noOpfs: () => new Worker(new URL("./no-opfs-worker.js", import.meta.url), { type: "module" }),
  /** A worker that installs opfs-sahpool itself, bypassing libsql-web's locks. */
  rawSahpool: () => new Worker(new URL("./raw-sahpool-worker.js", import.meta.url), { type: "module" }),
};

/** Posts `message` to `worker` and resolves with its first answer. */
function ask<T>(worker: Worker, message: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.addEventListener("message", (event) => resolve(event.data as T), { once: true });
    worker.addEventListener("error", (event) => reject(new Error(event.message)), { once: true });
    worker.postMessage(message);
  });
}

/** A `WorkerEngine` (the page's side of the protocol) on `worker`, or a new engine worker, with a memory database open. */
async function openEngine(options: { sharedLane: boolean; laneTiming?: LaneTiming }, worker = workers.engine()) {
  const engine = new WorkerEngine(connectWorker(worker), options);
  const conn = await engine.open({ storage: "memory", path: "" });
  return { engine, conn, worker };
}

/** Opens a worker transport on `request`, runs `sql` in order and returns the last statement's rows; closes it. */
async function runSql(request: Omit<WorkerTransportOptions, "worker">, sql: string[]): Promise<unknown[][]> {
  const t = await openWorkerTransport({ busyTimeoutMs: 10_000, ...request });
  try {
    let rows: unknown[][] = [];
    for (const statement of sql) rows = receivedArrays((await t.main.execute({ sql: statement }, "number")).rows);
    return rows;
  } finally {
    await t.close();
  }
}

const lib = {
  /** The browser entry's `createClient` (the embedded replica tests use it with `syncUrl`). */
  createClient,
  openWorkerTransport,
  /** Rows a transport returned, as arrays of values. */
  rows: receivedArrays,
  runSql,
  connectWorker,
  importWorkerDatabase,
  deleteWorkerDatabase,
  rekeyWorkerDatabase,
  toBase64,
  fromBase64,
  scanOpfs,
  sahpoolFiles,
  readOpfsFiles,
  writeOpfsFiles,
  LibsqlError,
  LibsqlBatchError,
  openEngine,
  workers,
  thrown,
  ask,
};

/** The page's test API. */
export type PageLib = typeof lib;

declare global {
  interface Window {
    lib: PageLib;
  }
}

window.lib = lib;
