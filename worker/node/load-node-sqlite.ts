import { readFile } from "node:fs/promises";
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
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const options = {
    print: () => {},
    printErr: () => {},
    instantiateWasm(
      imports: WebAssembly.Imports,
      onSuccess: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) {
      WebAssembly.instantiate(bytes, imports).then(({ instance, module }) => onSuccess(instance, module), fail);
      return {};
    },
  };
  // Emscripten never settles its promise when instantiation fails; race it.
  return Promise.race([glue.default(options as Parameters<Sqlite3Init>[0]), failed]);
}
