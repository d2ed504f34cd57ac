import type { EncryptionSpec, ExportOptions, StorageKind } from "../proto.js";
import type { Transport } from "../transport.js";
import { EngineTransport } from "../transports/engine-transport.js";
import type { WorkerEngine } from "./worker-engine.js";
import { startWorkerSession, type WorkerSession } from "./worker-session.js";

export { connectWorker } from "./worker-session.js";

/** Where the database of a worker transport lives and which worker runs it. */
export interface WorkerTransportOptions {
  /** `opfs-sahpool` (persistent, the default choice), `opfs` (needs a cross-origin isolated page) or `memory`. */
  storage: Exclude<StorageKind, "file">;
  /** OPFS name of the database, e.g. `"notes.db"` or `"app/notes.db"` (ignored for memory). */
  path: string;
  /**
   * A worker running libsql-web's worker entry, or a port connected to one
   * (`connectWorker`). By default the transport starts a worker of its own
   * and terminates it when it is closed.
   */
  worker?: Worker | MessagePort;
  /** How long a call waits for another connection's transaction, or for another tab to give the database up (ms). */
  busyTimeoutMs?: number;
  /** Encryption at rest of the database (its key and format); absent for a plain database. */
  encryption?: EncryptionSpec | undefined;
  /** Calls through shared memory on a cross-origin isolated page (see `Config.sharedLane`); default true. */
  sharedLane?: boolean | undefined;
  /** Called when the worker is found dead (crashed, terminated), not when the transport is closed. */
  onWorkerEnd?: () => void;
  /** Called once the transport closed (after its connection was given back). */
  onClose?: () => void;
}

/** A transport to the engine in a worker. */
export interface WorkerTransport extends Transport {
  /** The database's file as bytes: a consistent snapshot, encrypted unless `decrypt` (see `EngineApi.exportDatabase`). */
  exportDatabase(options?: ExportOptions): Promise<Uint8Array>;
  /**
   * Ends the engine's worker now (when the transport has the `Worker`):
   * calls in flight and later calls reject with `WORKER_TERMINATED`.
   */
  terminate(): void;
}

/**
 * Opens a database in a worker and returns a transport to it. When the
 * worker dies, errors out or is terminated (by `terminate()`, by whoever holds
 * the `Worker`, or by the browser), every call in flight and every later call
 * rejects with `WORKER_TERMINATED`.
 *
 * @example
 * const transport = await openWorkerTransport({ storage: "opfs-sahpool", path: "notes.db" });
 */
export async function openWorkerTransport(options: WorkerTransportOptions): Promise<WorkerTransport> {
  const session = await startWorkerSession(options.worker, options.onWorkerEnd, options.sharedLane);
  try {
    const conn = await session.engine.open({
      storage: options.storage,
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      encryption: options.encryption,
    });
    return new WorkerEngineTransport(session, conn, options.onClose);
  } catch (error) {
    session.close();
    throw error;
  }
}

class WorkerEngineTransport extends EngineTransport implements WorkerTransport {
  readonly #session: WorkerSession;
  readonly #engine: WorkerEngine;
  readonly #conn: number;

  constructor(session: WorkerSession, conn: number, onClose?: () => void) {
    super(session.engine, conn, () => {
      session.close();
      onClose?.();
    });
    this.#session = session;
    this.#engine = session.engine;
    this.#conn = conn;
  }

  exportDatabase(options?: ExportOptions): Promise<Uint8Array> {
    return this.#engine.exportDatabase(this.#conn, options);
  }

  terminate(): void {
    this.#session.terminate();
  }
}
