import type { ReceivedRows } from "../../src/proto.js";
import { Engine } from "../engine.js";
import { flatRows } from "../row-format.js";
import { nodeFileStorage } from "../storage/node-file-storage.js";
import { loadNodeSqlite, type WasmFlavour } from "./load-node-sqlite.js";

/** Options for the Node engine. */
export interface NodeEngineOptions {
  /** Wasm binary: `optimized` (default) or the package's `original`; env `LIBSQL_WEB_WASM` overrides the default. */
  wasm?: WasmFlavour;
}

/** Builds an engine for Node: memory databases, and `file:` databases on disk; large results come flat. */
export function createNodeEngine(options: NodeEngineOptions = {}): Engine<ReceivedRows> {
  const flavour = options.wasm ?? (process.env.LIBSQL_WEB_WASM === "original" ? "original" : "optimized");
  return new Engine({ loadSqlite: () => loadNodeSqlite(flavour), storages: { file: nodeFileStorage }, rows: flatRows });
}
