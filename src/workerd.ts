/**
 * The Cloudflare Workers (workerd) entry of libsql-web (`libsql-web/workerd`):
 * remote databases over Hrana/HTTP, and private in-memory databases
 * (`:memory:`) in libsql-web's wasm engine. The engine's wasm is imported as
 * modules that the platform compiles at deploy time; it loads on the first
 * `:memory:` call. For remote databases only, `libsql-web/remote` is far
 * smaller (no wasm).
 *
 * @example
 * import { createClient } from "libsql-web/workerd";
 * const scratch = createClient(":memory:");
 * await scratch.execute("SELECT vector_distance_cos(vector('[1,2]'), vector('[2,1]'))");
 */
import type { Client, Config } from "./api.js";
import type { ExpandedConfig } from "./config.js";
import { createClientIn, type Environment } from "./create-client.js";
import type { EngineApi, ReceivedRows } from "./proto.js";
import { openHttpTransport } from "./remote/http-transport.js";
import { EngineTransport } from "./transports/engine-transport.js";

export * from "./exports.js";

let engine: Promise<EngineApi<ReceivedRows>> | undefined;

/** One engine per isolate; each `:memory:` client still gets a database of its own. */
function workerdEngine(): Promise<EngineApi<ReceivedRows>> {
  engine ??= import("../worker/workerd/create-workerd-engine.js").then((m) => m.createWorkerdEngine());
  engine.catch(() => {
    engine = undefined;
  });
  return engine;
}

async function openMemory(_config: ExpandedConfig) {
  const api = await workerdEngine();
  return new EngineTransport(api, await api.open({ storage: "memory", path: "" }));
}

const workerd: Environment = {
  name: "the workerd entry",
  localKinds: ["memory"],
  local: openMemory,
  remote: openHttpTransport,
};

/** Creates a client for a remote database or a private in-memory one (`:memory:`). */
export function createClient(config: Config | string): Client {
  return createClientIn(workerd, config);
}
