import type { OpenRequest } from "../proto.js";
import { startWorkerSession } from "./worker-session.js";

/** Which database a file operation is about, and which worker runs it. */
export interface WorkerDatabaseOptions extends OpenRequest {
  /** A worker running libsql-web's worker entry, or a port to one; by default a worker started for the operation. */
  worker?: Worker | MessagePort;
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
