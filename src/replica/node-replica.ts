import { resolve } from "node:path";
import { type ExpandedConfig, encryptionOf } from "../config.js";
import { NodeMetaStore } from "./node-meta-store.js";
import type { OfflineReplicaEngine } from "./replica-router.js";
import type { ReplicaEnvironment } from "./replica-transport.js";

/**
 * Where a Node replica lives: the database file at the config's path, the
 * working copy of offline writes at `<path>-offline`, the metadata in
 * `<path>-replica.json`, all on the process's in-process engine. With
 * `encryptionKey`, both databases are encrypted (the metadata holds frame
 * numbers only: no rows, no key).
 */
export function nodeReplicaEnvironment(
  engine: () => Promise<OfflineReplicaEngine>,
): (config: ExpandedConfig) => Promise<ReplicaEnvironment> {
  return async (config) => {
    const path = resolve(config.path);
    // The working copy holds rows too: it is encrypted with the same key.
    const encryption = encryptionOf(config);
    return {
      engine: await engine(),
      request: { storage: "file", path, busyTimeoutMs: config.timeout, encryption },
      workingRequest: { storage: "file", path: `${path}-offline`, busyTimeoutMs: config.timeout, encryption },
      store: new NodeMetaStore(path),
    };
  };
}
