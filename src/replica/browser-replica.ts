import { type ExpandedConfig, encryptionOf } from "../config.js";
import { ErrorCode, LibsqlError } from "../errors.js";
import { leasePageWorker, type PageWorkerLease } from "../worker/page-worker.js";
import { startWorkerSession } from "../worker/worker-session.js";
import { IdbMetaStore } from "./idb-meta-store.js";
import type { ReplicaEnvironment } from "./replica-transport.js";

/**
 * Where a browser replica lives: the `opfs:` database in the engine's worker
 * (the client's own `worker`, or the page's shared one), the working copy of
 * offline writes beside it (`<name>-offline`), the metadata in IndexedDB.
 */
export async function browserReplicaEnvironment(config: ExpandedConfig): Promise<ReplicaEnvironment> {
  if (config.kind !== "opfs") {
    throw new LibsqlError(
      `an embedded replica in the browser needs an "opfs:" URL for its local database, got "${config.scheme}:"`,
      ErrorCode.URL_SCHEME_NOT_SUPPORTED,
    );
  }
  let lease: PageWorkerLease | undefined;
  if (!config.worker) lease = leasePageWorker();
  let session: Awaited<ReturnType<typeof startWorkerSession>>;
  try {
    session = await startWorkerSession(config.worker ?? lease?.worker, () => lease?.died());
  } catch (error) {
    lease?.release();
    throw error;
  }
  // The working copy beside it gets the same encryption: it holds rows too.
  const request = {
    storage: config.storage,
    path: config.path,
    busyTimeoutMs: config.timeout,
    encryption: encryptionOf(config),
  };
  return {
    engine: session.engine,
    request,
    workingRequest: { ...request, path: `${config.path}-offline` },
    store: new IdbMetaStore(`${config.storage}:${config.path}`),
    onClose: () => {
      session.close();
      lease?.release();
    },
  };
}
