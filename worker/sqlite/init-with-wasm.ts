import type { Sqlite3Init, Sqlite3Module } from "./sqlite3-module.js";

/** Instantiates the engine's wasm with the imports the glue hands over. */
export type InstantiateWasm = (
  imports: WebAssembly.Imports,
) => Promise<{ instance: WebAssembly.Instance; module: WebAssembly.Module }>;

/**
 * Runs the Emscripten glue `init` with the wasm instantiated by `instantiate`
 * (through Emscripten's `instantiateWasm` hook), printing nothing. Emscripten
 * alone never settles its promise when instantiation fails; this rejects.
 */
export function initWithWasm(init: Sqlite3Init, instantiate: InstantiateWasm): Promise<Sqlite3Module> {
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
      instantiate(imports).then(({ instance, module }) => onSuccess(instance, module), fail);
      return {};
    },
  };
  return Promise.race([init(options as Parameters<Sqlite3Init>[0]), failed]);
}
