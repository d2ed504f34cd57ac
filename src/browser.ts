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
import type { Client, Config } from "./api.js";
import type { ExpandedConfig } from "./config.js";
import { createClientIn, type Environment } from "./create-client.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import { openHttpTransport } from "./remote/http-transport.js";
import type { Transport } from "./transport.js";
import { openWorkerTransport } from "./worker/open-worker-transport.js";
import { leasePageWorker } from "./worker/page-worker.js";

export * from "./exports.js";
export { connectWorker, type WorkerTransport } from "./worker/open-worker-transport.js";
export {
  deleteWorkerDatabase as deleteDatabase,
  importWorkerDatabase as importDatabase,
} from "./worker/worker-database-files.js";

function workerOptions(config: ExpandedConfig) {
  if (config.encryptionKey !== undefined) {
    throw new LibsqlError(
      "encryptionKey is not supported yet for local databases",
      ErrorCode.ENCRYPTION_KEY_NOT_SUPPORTED,
    );
  }
  return {
    storage: config.kind === "memory" ? ("memory" as const) : config.storage,
    path: config.path,
    busyTimeoutMs: config.timeout,
  };
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
};

/**
 * Creates a client: `:memory:` or `opfs:name.db` (with `storage: "opfs"` for
 * the `opfs` VFS on cross-origin isolated pages) in a worker, or a remote
 * database (`libsql:`, `https:`, `http:`).
 */
export function createClient(config: Config | string): Client {
  return createClientIn(browser, config);
}
