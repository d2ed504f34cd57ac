import type { RowsWire } from "../../src/worker/hot-wire.js";
import { Engine } from "../engine.js";
import { packedRows } from "../row-format.js";
import { loadBrowserSqlite, type WasmSource } from "./load-browser-sqlite.js";
import { OpfsStorage } from "./opfs-storage.js";
import { SahpoolStorage } from "./sahpool-storage.js";

/** Options for the browser engine. */
export interface BrowserEngineOptions {
  /** Where the wasm comes from (default: the build's `engine/sqlite3.wasm`). */
  wasm?: WasmSource;
}

/**
 * Builds the engine for a dedicated browser worker: memory databases,
 * `opfs-sahpool` (the default persistent storage) and `opfs` (needs a
 * cross-origin isolated page). Nothing loads until the first open. Rows
 * come packed, ready to move to the page.
 */
export function createBrowserEngine(options: BrowserEngineOptions = {}): Engine<RowsWire> {
  return new Engine({
    loadSqlite: () => loadBrowserSqlite(options.wasm),
    storages: { "opfs-sahpool": new SahpoolStorage(), opfs: new OpfsStorage() },
    rows: packedRows,
    rowsAhead: true,
  });
}
