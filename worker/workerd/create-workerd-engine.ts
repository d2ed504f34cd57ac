import type { ReceivedRows } from "../../src/proto.js";
import { Engine } from "../engine.js";
import { flatRows } from "../row-format.js";
import { loadWorkerdSqlite, type WorkerdWasm } from "./load-workerd-sqlite.js";
import { workerdWasm } from "./workerd-wasm.js";

/**
 * Builds the engine for Cloudflare Workers (workerd): in-memory databases only
 * (a Worker has no file system or OPFS), the wasm compiled by the platform.
 * Nothing loads until the first open. Large results come flat.
 */
export function createWorkerdEngine(wasm: WorkerdWasm = workerdWasm): Engine<ReceivedRows> {
  return new Engine({ loadSqlite: () => loadWorkerdSqlite(wasm), rows: flatRows });
}
