import { initWithWasm } from "../sqlite/init-with-wasm.js";
import type { Sqlite3Init, Sqlite3Module } from "../sqlite/sqlite3-module.js";
import { trampolineBytes, trampolineName } from "./trampoline-bytes.js";

/** Compiled wasm for the workerd engine. */
export interface WorkerdWasm {
  /** The engine (`engine/sqlite3.wasm`), compiled by the platform. */
  sqlite: WebAssembly.Module;
  /** The glue's trampolines by canonical name (`i_ii`, see trampoline-bytes.ts), compiled by the platform. */
  trampolines: Readonly<Record<string, WebAssembly.Module>>;
}

type Globals = { importScripts?: unknown; location?: unknown; sqlite3ApiConfig?: object };

/**
 * Loads the engine under workerd, where three things differ from a browser
 * worker (docs/browser-notes.md §5):
 *
 * 1. workerd has neither `window` nor `importScripts`, and the glue's
 *    assertion build aborts on an environment it was not built for: during
 *    start-up, `importScripts` and `location` are stood in so that it takes its
 *    web-worker path, then removed.
 * 2. The engine arrives compiled through the `instantiateWasm` hook.
 * 3. The glue compiles a tiny module per function signature it puts in the
 *    function table: during start-up `WebAssembly.Module` answers those from
 *    the precompiled trampolines, and afterwards the glue's `jsFuncToWasm`
 *    uses them directly.
 */
export async function loadWorkerdSqlite(wasm: WorkerdWasm): Promise<Sqlite3Module> {
  const glue = (await import("../../engine/sqlite3-bundler-friendly.mjs")) as { default: Sqlite3Init };
  const restore = [standInForWorker(), serveTrampolines(wasm.trampolines)];
  try {
    (globalThis as Globals).sqlite3ApiConfig = { warn: () => {}, log: () => {}, debug: () => {} };
    const module = await initWithWasm(glue.default, async (imports) => ({
      instance: await WebAssembly.instantiate(wasm.sqlite, imports),
      module: wasm.sqlite,
    }));
    const target = module.wasm as unknown as { jsFuncToWasm: (func: unknown, sig: unknown) => unknown };
    target.jsFuncToWasm = (func, sig) => {
      // The glue accepts (func, sig) and (sig, func).
      const [fn, signature] = typeof func === "string" ? [sig, func] : [func, sig as string];
      return new WebAssembly.Instance(precompiled(wasm.trampolines, trampolineName(signature)), {
        e: { f: fn as WebAssembly.ImportValue },
      }).exports.f;
    };
    return module;
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

function precompiled(trampolines: WorkerdWasm["trampolines"], name: string): WebAssembly.Module {
  const module = trampolines[name];
  if (!module) {
    throw new Error(
      `the workerd engine has no precompiled trampoline "${name}" (workerd cannot compile wasm at run time); add worker/workerd/trampolines/${name}.wasm`,
    );
  }
  return module;
}

/** Makes the runtime look like a web worker to the glue; returns the undo. */
function standInForWorker(): () => void {
  const globals = globalThis as Globals;
  const added: Array<keyof Globals> = [];
  if (globals.importScripts === undefined) {
    globals.importScripts = () => {
      throw new Error("importScripts is not available in workerd");
    };
    added.push("importScripts");
  }
  if (globals.location === undefined) {
    globals.location = { href: "https://libsql-web.invalid/" };
    added.push("location");
  }
  return () => {
    for (const name of added) delete globals[name];
  };
}

/** Has `new WebAssembly.Module(bytes)` return a precompiled trampoline for a trampoline's bytes; returns the undo. */
function serveTrampolines(trampolines: WorkerdWasm["trampolines"]): () => void {
  const byBytes = new Map<string, WebAssembly.Module>();
  for (const [name, module] of Object.entries(trampolines)) byBytes.set(hex(trampolineBytes(name)), module);
  const Original = WebAssembly.Module;
  const Serving = function Module(bytes: BufferSource) {
    const view = ArrayBuffer.isView(bytes)
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes as ArrayBuffer);
    return byBytes.get(hex(view)) ?? new Original(bytes);
  } as unknown as typeof WebAssembly.Module;
  Object.defineProperty(Serving, "prototype", { value: Original.prototype });
  Object.assign(Serving, {
    exports: Original.exports,
    imports: Original.imports,
    customSections: Original.customSections,
  });
  (WebAssembly as { Module: typeof WebAssembly.Module }).Module = Serving;
  return () => {
    (WebAssembly as { Module: typeof WebAssembly.Module }).Module = Original;
  };
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
