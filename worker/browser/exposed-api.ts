import type {
  ArgValue,
  BatchResult,
  BatchStep,
  CursorChunk,
  IntMode,
  OpenRequest,
  ResultValue,
  StmtResult,
} from "../../src/proto.js";
import type { WorkerApi } from "../../src/worker/worker-protocol.js";
import type { Engine } from "../engine.js";

/** Marks `value` to be posted with `transfer` moved rather than copied (comlink's `transfer`). */
export type MarkTransfer = <T>(value: T, transfer: Transferable[]) => T;

/**
 * What the worker serves to the page: the engine's calls, with the blobs of
 * each result transferred instead of copied (the engine already copied them
 * out of the wasm heap into buffers of their own), and the name of the Web
 * Lock this worker holds for its whole life.
 */
export function exposedApi(engine: Engine, mark: MarkTransfer): WorkerApi {
  const lifetime = holdLifetimeLock();
  const withBlobs = <T extends StmtResult | BatchResult | CursorChunk>(value: T): T => {
    const buffers: ArrayBuffer[] = [];
    if ("rows" in value) {
      collect(value.rows, buffers);
    } else if ("stepResults" in value) {
      for (const step of value.stepResults) if (step) collect(step.rows, buffers);
    } else {
      for (const entry of value.entries) if (entry.type === "rows") collect(entry.rows, buffers);
    }
    return buffers.length === 0 ? value : mark(value, buffers);
  };
  return {
    lifetimeLock: () => lifetime,
    open: (request: OpenRequest) => engine.open(request),
    fork: (conn) => engine.fork(conn),
    close: (conn) => engine.close(conn),
    execute: async (conn, stmt, intMode: IntMode) => withBlobs(await engine.execute(conn, stmt, intMode)),
    batch: async (conn, steps: BatchStep[], intMode) => withBlobs(await engine.batch(conn, steps, intMode)),
    sequence: (conn, sql) => engine.sequence(conn, sql),
    describe: (conn, sql) => engine.describe(conn, sql),
    getAutocommit: (conn) => engine.getAutocommit(conn),
    metadata: (conn) => engine.metadata(conn),
    prepare: (conn, sql) => engine.prepare(conn, sql),
    query: async (conn, stmtId, args: ArgValue[] | Record<string, ArgValue>, intMode, maxRows) =>
      withBlobs(await engine.query(conn, stmtId, args, intMode, maxRows)),
    finalize: (conn, stmtId) => engine.finalize(conn, stmtId),
    openCursor: (conn, steps, intMode) => engine.openCursor(conn, steps, intMode),
    fetchCursor: async (conn, cursorId, maxRows) => withBlobs(await engine.fetchCursor(conn, cursorId, maxRows)),
    closeCursor: (conn, cursorId) => engine.closeCursor(conn, cursorId),
    exportDatabase: async (conn) => {
      const bytes = await engine.exportDatabase(conn);
      return mark(bytes, [bytes.buffer]);
    },
    importDatabase: (request, bytes) => engine.importDatabase(request, bytes),
    deleteDatabase: (request) => engine.deleteDatabase(request),
  };
}

function collect(rows: ResultValue[][], buffers: ArrayBuffer[]): void {
  for (const row of rows) {
    for (const value of row) if (value instanceof ArrayBuffer) buffers.push(value);
  }
}

/** Takes a Web Lock named after this worker and never releases it: it frees itself when the worker ends. */
function holdLifetimeLock(): Promise<string | null> {
  if (typeof navigator === "undefined" || navigator.locks === undefined) return Promise.resolve(null);
  const name = `libsql-web:worker:${crypto.randomUUID()}`;
  return new Promise((resolve) => {
    navigator.locks
      .request(name, () => {
        resolve(name);
        return new Promise<never>(() => {});
      })
      .catch(() => resolve(null));
  });
}
