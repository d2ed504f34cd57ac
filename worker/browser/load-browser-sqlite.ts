import { initWithWasm } from "../sqlite/init-with-wasm.js";
import type { Sqlite3Init, Sqlite3Module } from "../sqlite/sqlite3-module.js";

/**
 * Where the engine's wasm comes from: a URL, a fetched `Response`, or a
 * compiled `WebAssembly.Module`. By default, `engine/sqlite3.wasm` next to the
 * glue, which bundlers (Vite) emit as an asset through `new URL(..., import.meta.url)`.
 */
export type WasmSource = string | URL | Response | WebAssembly.Module;

/**
 * Loads the engine in a browser worker: the bundler-friendly glue (imported
 * lazily, so nothing loads before the first open) with the wasm handed over
 * through Emscripten's `instantiateWasm` hook.
 */
export async function loadBrowserSqlite(source?: WasmSource): Promise<Sqlite3Module> {
  const glue = (await import("../../engine/sqlite3-bundler-friendly.mjs")) as { default: Sqlite3Init };
  // The glue reads this once, at start-up, then deletes it. Its warnings are about optional
  // parts (e.g. "Ignoring inability to install OPFS" on every page that is not cross-origin
  // isolated, though opfs-sahpool works there); what matters reaches callers as coded errors.
  (globalThis as { sqlite3ApiConfig?: object }).sqlite3ApiConfig = { warn: () => {}, log: () => {}, debug: () => {} };
  return initWithWasm(glue.default, (imports) =>
    instantiate(source ?? new URL("../../engine/sqlite3.wasm", import.meta.url), imports),
  );
}

async function instantiate(
  source: WasmSource,
  imports: WebAssembly.Imports,
): Promise<{ instance: WebAssembly.Instance; module: WebAssembly.Module }> {
  if (source instanceof WebAssembly.Module) {
    return { instance: await WebAssembly.instantiate(source, imports), module: source };
  }
  const response = source instanceof Response ? source : await fetch(source);
  if (!response.ok) throw new Error(`could not fetch the engine (${response.status} ${response.url})`);
  if (response.headers.get("content-type")?.split(";")[0]?.trim() === "application/wasm") {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}
