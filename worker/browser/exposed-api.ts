import type { OpenRequest } from "../../src/proto.js";
import type { RowsWire } from "../../src/worker/hot-wire.js";
import type { WorkerApi } from "../../src/worker/worker-protocol.js";
import type { Engine } from "../engine.js";

/** Marks `value` to be posted with `transfer` moved rather than copied (comlink's `transfer`). */
export type MarkTransfer = <T>(value: T, transfer: Transferable[]) => T;

/**
 * What comlink serves to the page: the engine's calls other than the hot
 * ones (which `serveHotCalls` answers on the same port), the exported
 * database moved rather than copied, and the name of the Web Lock this
 * worker holds for its whole life.
 */
export function exposedApi(engine: Engine<RowsWire>, mark: MarkTransfer): WorkerApi {
  const lifetime = holdLifetimeLock();
  return {
    lifetimeLock: () => lifetime,
    open: (request: OpenRequest) => engine.open(request),
    fork: (conn) => engine.fork(conn),
    close: (conn) => engine.close(conn),
    sequence: (conn, sql) => engine.sequence(conn, sql),
    describe: (conn, sql) => engine.describe(conn, sql),
    getAutocommit: (conn) => engine.getAutocommit(conn),
    metadata: (conn) => engine.metadata(conn),
    prepare: (conn, sql) => engine.prepare(conn, sql),
    finalize: (conn, stmtId) => engine.finalize(conn, stmtId),
    openCursor: (conn, steps, intMode) => engine.openCursor(conn, steps, intMode),
    closeCursor: (conn, cursorId) => engine.closeCursor(conn, cursorId),
    exportDatabase: async (conn, options) => {
      const bytes = await engine.exportDatabase(conn, options);
      return mark(bytes, [bytes.buffer]);
    },
    importDatabase: (request, bytes) => engine.importDatabase(request, bytes),
    deleteDatabase: (request) => engine.deleteDatabase(request),
    rekeyDatabase: (request, to) => engine.rekeyDatabase(request, to),
    executeIfReadOnly: (conn, stmt, intMode) => engine.executeIfReadOnly(conn, stmt, intMode),
    batchIfReadOnly: (conn, steps, intMode) => engine.batchIfReadOnly(conn, steps, intMode),
    isReadOnly: (conn, sqls) => engine.isReadOnly(conn, sqls),
    replicaApplyFrames: (conn, frames) => engine.replicaApplyFrames(conn, frames),
    replicaWriteImage: (conn, image) => engine.replicaWriteImage(conn, image),
    replicaCopy: (from, to) => engine.replicaCopy(from, to),
    replicaGuardOfflineWrites: (conn) => engine.replicaGuardOfflineWrites(conn),
    replicaRefusal: (conn) => engine.replicaRefusal(conn),
    replicaDiff: (work, synced) => engine.replicaDiff(work, synced),
  };
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
