import { Engine } from "../engine.js";
import { loadWorkerdSqlite, type WorkerdWasm } from "./load-workerd-sqlite.js";
import { workerdWasm } from "./workerd-wasm.js";

/**
 * Builds the engine for Cloudflare Workers (workerd): in-memory databases only
 * (a Worker has no file system or OPFS), the wasm compiled by the platform.
 * Nothing loads until the first open.
 */
export function createWorkerdEngine(wasm: WorkerdWasm = workerdWasm): Engine {
  return new Engine({ loadSqlite: () => loadWorkerdSqlite(wasm) });
}
