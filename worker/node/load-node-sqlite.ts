import { readFile } from "node:fs/promises";
import { initWithWasm } from "../sqlite/init-with-wasm.js";
import type { Sqlite3Init, Sqlite3Module } from "../sqlite/sqlite3-module.js";

/** Which wasm binary to run: the build's optimised one, or the package's original for comparison. */
export type WasmFlavour = "optimized" | "original";

const files: Record<WasmFlavour, string> = {
  optimized: "sqlite3.wasm",
  original: "sqlite3-original.wasm",
};

/**
 * Loads the engine in Node from `engine/` (made by `npm run build:engine`):
 * the Node glue, with the chosen wasm binary handed over through Emscripten's
 * `instantiateWasm` hook. Nothing happens until this is called.
 */
export async function loadNodeSqlite(flavour: WasmFlavour): Promise<Sqlite3Module> {
  const url = new URL(`../../engine/${files[flavour]}`, import.meta.url);
  const [glue, bytes] = await Promise.all([
    import("../../engine/sqlite3-node.mjs") as Promise<{ default: Sqlite3Init }>,
    readFile(url),
  ]);
  return initWithWasm(glue.default, (imports) => WebAssembly.instantiate(bytes, imports));
}
