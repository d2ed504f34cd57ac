import { Engine } from "../engine.js";
import { nodeFileStorage } from "../storage/node-file-storage.js";
import { loadNodeSqlite, type WasmFlavour } from "./load-node-sqlite.js";

/** Options for the Node engine. */
export interface NodeEngineOptions {
  /** Wasm binary: `optimized` (default) or the package's `original`; env `LIBSQL_WEB_WASM` overrides the default. */
  wasm?: WasmFlavour;
}

/** Builds an engine for Node: memory databases, and `file:` databases on disk. */
export function createNodeEngine(options: NodeEngineOptions = {}): Engine {
  const flavour = options.wasm ?? (process.env.LIBSQL_WEB_WASM === "original" ? "original" : "optimized");
  return new Engine({ loadSqlite: () => loadNodeSqlite(flavour), storages: { file: nodeFileStorage } });
}
