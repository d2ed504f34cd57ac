/**
 * The Node entry of libsql-web: in-process engine for `:memory:` and `file:`
 * databases (the wasm engine loads on first use).
 *
 * @example
 * import { createClient } from "libsql-web";
 * const client = createClient({ url: "file:app.db" });
 * await client.execute("SELECT 1");
 */
import type { Client, Config } from "./api.js";
import type { ExpandedConfig } from "./config.js";
import { createClientIn, type Environment } from "./create-client.js";
import { LibsqlError } from "./errors.js";
import type { EngineApi } from "./proto.js";
import { openHttpTransport } from "./remote/http-transport.js";
import { EngineTransport } from "./transports/engine-transport.js";

export * from "./exports.js";

let engine: Promise<EngineApi> | undefined;

/** One engine per process, so that clients of the same file share its handle and lock. */
function nodeEngine(): Promise<EngineApi> {
  if (!engine) {
    const loading: Promise<EngineApi> = import("../worker/node/node-engine.js").then((m) => m.createNodeEngine());
    loading.catch(() => {
      if (engine === loading) engine = undefined;
    });
    engine = loading;
  }
  return engine;
}

async function openLocal(config: ExpandedConfig) {
  if (config.encryptionKey !== undefined) {
    throw new LibsqlError("encryptionKey is not supported yet for local databases", "ENCRYPTION_KEY_NOT_SUPPORTED");
  }
  const api = await nodeEngine();
  const conn = await api.open({
    storage: config.kind === "memory" ? "memory" : "file",
    path: config.path,
    busyTimeoutMs: config.timeout,
  });
  return new EngineTransport(api, conn);
}

const node: Environment = {
  name: "the Node entry",
  localKinds: ["memory", "file"],
  local: openLocal,
  remote: openHttpTransport,
};

/** Creates a client for a local (`:memory:`, `file:`) database. */
export function createClient(config: Config | string): Client {
  return createClientIn(node, config);
}
