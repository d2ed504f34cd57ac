/**
 * The browser entry of libsql-web: local databases run in libsql-web's engine
 * in a module Web Worker (`:memory:`, and `opfs:name.db` persisted in the
 * Origin Private File System), remote ones over Hrana/HTTP. The page never
 * runs SQL on its own thread.
 *
 * @example
 * import { createClient } from "libsql-web";
 * const client = createClient({ url: "opfs:notes.db" });
 * await client.execute("CREATE TABLE IF NOT EXISTS notes(body TEXT)");
 */
import type { Client, Config, EncryptionTarget } from "./api.js";
import { type ExpandedConfig, encryptionOf, encryptionTarget, expandConfig } from "./config.js";
import { createClientIn, type Environment } from "./create-client.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import { openHttpTransport } from "./remote/http-transport.js";
import { browserReplicaEnvironment } from "./replica/browser-replica.js";
import { createReplicaClient } from "./replica/create-replica-client.js";
import { IdbMetaStore } from "./replica/idb-meta-store.js";
import type { ReplicaClient, ReplicaConfig } from "./replica/replica-api.js";
import { replicaRekeyRefused } from "./replica/replica-errors.js";
import { ReplicaHandle } from "./replica/replica-handle.js";
import { openReplicaTransport } from "./replica/replica-transport.js";
import type { Transport } from "./transport.js";
import { openWorkerTransport } from "./worker/open-worker-transport.js";
import { leasePageWorker } from "./worker/page-worker.js";
import { rekeyWorkerDatabase } from "./worker/worker-database-files.js";

export * from "./exports.js";
export type * from "./replica/replica-api.js";
export { ReplicaErrorCode, SyncConflictError } from "./replica/replica-errors.js";
export { connectWorker, type WorkerTransport } from "./worker/open-worker-transport.js";
export {
  deleteWorkerDatabase as deleteDatabase,
  exportWorkerDatabase as exportDatabase,
  importWorkerDatabase as importDatabase,
} from "./worker/worker-database-files.js";

function workerOptions(config: ExpandedConfig) {
  return {
    storage: config.kind === "memory" ? ("memory" as const) : config.storage,
    path: config.path,
    busyTimeoutMs: config.timeout,
    encryption: encryptionOf(config),
    sharedLane: config.sharedLane,
  };
}

/**
 * Changes the encryption of the `opfs:` database that `config` opens (with
 * its current `encryptionKey` and `encryptionFormat`, none for a plain
 * database): a new key, another format, plain to encrypted, or back to plain
 * (`encryptionKey: null`). Crash-safe: the new file is written completely
 * beside the old one in OPFS and a commit record is synced before it is
 * copied over the old one; a crash leaves the old database, or the new one
 * once the next open finishes the copy. Runs in `config.worker`, or in a
 * worker of its own; refused with `STORAGE_BUSY` while any tab has the
 * database open.
 *
 * @example
 * await rekeyDatabase({ url: "opfs:notes.db", encryptionKey: oldKey }, { encryptionKey: newKey });
 */
export async function rekeyDatabase(config: Config | string, to: EncryptionTarget): Promise<void> {
  const expanded = expandConfig(config);
  const target = encryptionTarget(to);
  if (expanded.kind !== "opfs") {
    throw new LibsqlError(
      `rekeyDatabase needs an "opfs:" database, not ${JSON.stringify(typeof config === "string" ? config : config.url)}`,
      ErrorCode.URL_SCHEME_NOT_SUPPORTED,
    );
  }
  // VACUUM INTO rebuilds the pages: later frames from the primary would no longer fit them.
  if ((await new IdbMetaStore(`${expanded.storage}:${expanded.path}`).load()) !== undefined) {
    throw replicaRekeyRefused(expanded.path);
  }
  await rekeyWorkerDatabase({ ...workerOptions(expanded), storage: expanded.storage, worker: expanded.worker }, target);
}

/** Opens a local database in the client's own worker (`config.worker`), or in the page's shared one. */
async function openLocal(config: ExpandedConfig): Promise<Transport> {
  const options = workerOptions(config);
  if (config.worker) return openWorkerTransport({ ...options, worker: config.worker });
  const lease = leasePageWorker();
  try {
    return await openWorkerTransport({
      ...options,
      worker: lease.worker,
      onWorkerEnd: () => lease.died(),
      onClose: () => lease.release(),
    });
  } catch (error) {
    if (error instanceof LibsqlError && error.code === ErrorCode.WORKER_TERMINATED) lease.died();
    lease.release();
    throw error;
  }
}

const browser: Environment = {
  name: "the browser entry",
  localKinds: ["memory", "opfs"],
  local: openLocal,
  remote: openHttpTransport,
  replica: async (config) =>
    openReplicaTransport(config, new ReplicaHandle({}), await browserReplicaEnvironment(config)),
};

/**
 * Creates a client: `:memory:` or `opfs:name.db` (with `storage: "opfs"` for
 * the `opfs` VFS on cross-origin isolated pages) in a worker, or a remote
 * database (`libsql:`, `https:`, `http:`).
 */
export function createClient(config: ReplicaConfig & { syncUrl: string }): ReplicaClient;
export function createClient(config: Config | string): Client;
export function createClient(config: Config | string): Client {
  if (typeof config === "object" && config !== null && config.syncUrl !== undefined) {
    // An embedded replica: `opfs:` database in the worker, metadata in IndexedDB; the client has `replica`.
    return createReplicaClient(browser, config, browserReplicaEnvironment);
  }
  return createClientIn(browser, config);
}
