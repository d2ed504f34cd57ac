/**
 * The Node entry of libsql-web: in-process engine for `:memory:` and `file:`
 * databases (the wasm engine loads on first use).
 *
 * @example
 * import { createClient } from "libsql-web";
 * const client = createClient({ url: "file:app.db" });
 * await client.execute("SELECT 1");
 */

import { resolve } from "node:path";
import type { Client, Config, EncryptionTarget } from "./api.js";
import { type ExpandedConfig, encryptionOf, encryptionTarget, expandConfig } from "./config.js";
import { createClientIn, type Environment } from "./create-client.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import type { EngineApi, ReceivedRows, ReplicaEngineApi, ReplicaOfflineApi } from "./proto.js";
import { openHttpTransport } from "./remote/http-transport.js";
import { createReplicaClient } from "./replica/create-replica-client.js";
import { NodeMetaStore } from "./replica/node-meta-store.js";
import { nodeReplicaEnvironment } from "./replica/node-replica.js";
import type { ReplicaClient, ReplicaConfig } from "./replica/replica-api.js";
import { replicaRekeyRefused } from "./replica/replica-errors.js";
import { ReplicaHandle } from "./replica/replica-handle.js";
import { openReplicaTransport } from "./replica/replica-transport.js";
import { EngineTransport } from "./transports/engine-transport.js";

export * from "./exports.js";
export type * from "./replica/replica-api.js";
export { ReplicaErrorCode, SyncConflictError } from "./replica/replica-errors.js";

type NodeEngine = EngineApi<ReceivedRows> & ReplicaEngineApi & ReplicaOfflineApi;

let engine: Promise<NodeEngine> | undefined;

/** One engine per process, so that clients of the same file share its handle and lock. */
function nodeEngine(): Promise<NodeEngine> {
  if (!engine) {
    const loading: Promise<NodeEngine> = import("../worker/node/node-engine.js").then((m) => m.createNodeEngine());
    loading.catch(() => {
      if (engine === loading) engine = undefined;
    });
    engine = loading;
  }
  return engine;
}

async function openLocal(config: ExpandedConfig) {
  const api = await nodeEngine();
  const conn = await api.open({
    storage: config.kind === "memory" ? "memory" : "file",
    path: config.path,
    busyTimeoutMs: config.timeout,
    encryption: encryptionOf(config),
  });
  return new EngineTransport(api, conn);
}

/**
 * Changes the encryption of the `file:` database that `config` opens (with
 * its current `encryptionKey` and `encryptionFormat`, none for a plain
 * database): a new key, another format, plain to encrypted, or back to plain
 * (`encryptionKey: null`). Crash-safe: the new file is written completely
 * beside the old one, then copied over it under the database's lock; a crash
 * leaves the old database, or the new one once the next open finishes the copy.
 * No client may have the database open in this process (`STORAGE_BUSY`), and
 * other processes are kept out while it runs (`SQLITE_BUSY` after `timeout`).
 *
 * @example
 * await rekeyDatabase({ url: "file:app.db", encryptionKey: oldKey }, { encryptionKey: newKey });
 */
export async function rekeyDatabase(config: Config | string, to: EncryptionTarget): Promise<void> {
  const expanded = expandConfig(config);
  const target = encryptionTarget(to);
  if (expanded.kind !== "file") {
    throw new LibsqlError(
      `rekeyDatabase needs a "file:" database, not ${JSON.stringify(typeof config === "string" ? config : config.url)}`,
      ErrorCode.URL_SCHEME_NOT_SUPPORTED,
    );
  }
  // VACUUM INTO rebuilds the pages: later frames from the primary would no longer fit them.
  if ((await new NodeMetaStore(resolve(expanded.path)).load()) !== undefined) throw replicaRekeyRefused(expanded.path);
  const api = await nodeEngine();
  await api.rekeyDatabase(
    { storage: "file", path: expanded.path, busyTimeoutMs: expanded.timeout, encryption: encryptionOf(expanded) },
    target,
  );
}

const replicaEnvironment = nodeReplicaEnvironment(nodeEngine);

const node: Environment = {
  name: "the Node entry",
  localKinds: ["memory", "file"],
  local: openLocal,
  remote: openHttpTransport,
  replica: async (config) => openReplicaTransport(config, new ReplicaHandle({}), await replicaEnvironment(config)),
};

/**
 * Creates a client for a local (`:memory:`, `file:`) or remote database, or an
 * embedded replica (`file:` with `syncUrl`), whose client has `replica`.
 */
export function createClient(config: ReplicaConfig & { syncUrl: string }): ReplicaClient;
export function createClient(config: Config | string): Client;
export function createClient(config: Config | string): Client {
  if (typeof config === "object" && config !== null && config.syncUrl !== undefined) {
    return createReplicaClient(node, config, replicaEnvironment);
  }
  return createClientIn(node, config);
}
