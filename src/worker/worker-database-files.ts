import type { EncryptionSpec, ExportOptions, OpenRequest } from "../proto.js";
import { openWorkerTransport } from "./open-worker-transport.js";
import { leasePageWorker } from "./page-worker.js";
import { startWorkerSession } from "./worker-session.js";

/** Which database a file operation is about, and which worker runs it. */
export interface WorkerDatabaseOptions extends OpenRequest {
  /** A worker running libsql-web's worker entry, or a port to one; by default a worker started for the operation. */
  worker?: Worker | MessagePort;
}

/**
 * The database `options` names, as the bytes of an SQLite file (a consistent
 * snapshot, e.g. for a download): encrypted as it is kept unless
 * `options.decrypt`. Runs in `options.worker`, or in the page's shared
 * worker, so that it works while this page's clients have the database open.
 *
 * @example
 * const bytes = await exportDatabase({ storage: "opfs-sahpool", path: "notes.db" });
 */
export async function exportWorkerDatabase(options: WorkerDatabaseOptions & ExportOptions): Promise<Uint8Array> {
  const { worker, decrypt, storage, ...request } = options;
  if (storage === "file") throw new TypeError('exportDatabase runs in browsers: "file" storage is for Node');
  const lease = worker ? undefined : leasePageWorker();
  const transport = await openWorkerTransport({
    ...request,
    storage,
    worker: worker ?? lease?.worker,
    onWorkerEnd: () => lease?.died(),
    onClose: () => lease?.release(),
  }).catch((error: unknown) => {
    lease?.release();
    throw error;
  });
  try {
    return await transport.exportDatabase({ decrypt });
  } finally {
    await transport.close();
  }
}

/**
 * Replaces the database `options` names with `bytes` (an SQLite database
 * file, e.g. from `exportDatabase()`). Refused with `STORAGE_BUSY` while the
 * database is open in this or another tab; `SQLITE_NOTADB` for bytes that are
 * not a database.
 */
export async function importWorkerDatabase(options: WorkerDatabaseOptions, bytes: Uint8Array): Promise<void> {
  const { worker, ...request } = options;
  const session = await startWorkerSession(worker);
  try {
    await session.engine.importDatabase(request, bytes);
  } finally {
    session.close();
  }
}

/** Deletes the database `options` names (a missing one is fine); refused with `STORAGE_BUSY` while it is open. */
export async function deleteWorkerDatabase(options: WorkerDatabaseOptions): Promise<void> {
  const { worker, ...request } = options;
  const session = await startWorkerSession(worker);
  try {
    await session.engine.deleteDatabase(request);
  } finally {
    session.close();
  }
}

/**
 * Re-encrypts the database `options` names (`options.encryption`: its
 * current key, absent for a plain one) with `to` (null: decrypts it),
 * crash-safely; refused with `STORAGE_BUSY` while it is open.
 */
export async function rekeyWorkerDatabase(options: WorkerDatabaseOptions, to: EncryptionSpec | null): Promise<void> {
  const { worker, ...request } = options;
  const session = await startWorkerSession(worker);
  try {
    await session.engine.rekeyDatabase(request, to);
  } finally {
    session.close();
  }
}
