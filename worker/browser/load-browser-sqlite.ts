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
      instantiate(source ?? new URL("../../engine/sqlite3.wasm", import.meta.url), imports).then(
        ({ instance, module }) => onSuccess(instance, module),
        fail,
      );
      return {};
    },
  };
  // The glue reads this once, at start-up, then deletes it. Its warnings are about optional
  // parts (e.g. "Ignoring inability to install OPFS" on every page that is not cross-origin
  // isolated, though opfs-sahpool works there); what matters reaches callers as coded errors.
  (globalThis as { sqlite3ApiConfig?: object }).sqlite3ApiConfig = { warn: () => {}, log: () => {}, debug: () => {} };
  // Emscripten never settles its promise when instantiation fails; race it.
  return Promise.race([glue.default(options as Parameters<Sqlite3Init>[0]), failed]);
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
