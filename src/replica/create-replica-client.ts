import type { ExpandedConfig } from "../config.js";
import { createClientIn, type Environment } from "../create-client.js";
import type { ReplicaClient, ReplicaConfig } from "./replica-api.js";
import { ReplicaHandle } from "./replica-handle.js";
import { openReplicaTransport, type ReplicaEnvironment } from "./replica-transport.js";

/**
 * Creates the client of an embedded replica in an entry point's environment:
 * `environment` says where the engine, the files and the metadata are. The
 * client has `replica` (state and events) beside `@libsql/client`'s API.
 */
export function createReplicaClient(
  env: Environment,
  config: ReplicaConfig,
  environment: (config: ExpandedConfig) => Promise<ReplicaEnvironment>,
): ReplicaClient {
  const handle = new ReplicaHandle({
    onSyncProgress: config.onSyncProgress,
    onConflict: config.onConflict,
    offlineWhenUnreachable: config.offlineWhenUnreachable,
  });
  const client = createClientIn(
    { ...env, replica: async (expanded) => openReplicaTransport(expanded, handle, await environment(expanded)) },
    config,
  );
  Object.defineProperty(client, "replica", { value: handle, enumerable: true });
  return client as ReplicaClient;
}
