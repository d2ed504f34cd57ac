import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HranaTestServer, startTestServer } from "../server/hrana-server.js";
import { scratchMiniflare } from "./scratch-miniflare.js";

/**
 * Bundles the test worker as wrangler would: one ES module, with every `.wasm`
 * import left as a module of its own (workerd compiles those at load time).
 */
async function bundleWorker(): Promise<{ script: string; wasm: Array<{ name: string; contents: Uint8Array }> }> {
  const wasm = new Map<string, string>();
  const wasmModules: Plugin = {
    name: "wasm-modules",
    setup(b) {
      b.onResolve({ filter: /\.wasm$/ }, (args) => {
        const path = resolve(dirname(args.importer), args.path);
        const name = `${basename(dirname(path))}-${basename(path)}`;
        wasm.set(name, path);
        return { path: `./${name}`, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./engine-worker.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    write: false,
    plugins: [wasmModules],
    logLevel: "silent",
  });
  return {
    script: result.outputFiles[0]!.text,
    wasm: [...wasm].map(([name, path]) => ({ name, contents: readFileSync(path) })),
  };
}

describe("Cloudflare Workers (workerd via miniflare): the wasm engine in memory", () => {
  let server: HranaTestServer;
  let mf: Miniflare;
  let dispose: () => Promise<void> = async () => {};

  beforeAll(async () => {
    server = await startTestServer();
    const { script, wasm } = await bundleWorker();
    ({ mf, dispose } = await scratchMiniflare({
      modules: [
        { type: "ESModule", path: "worker.mjs", contents: script },
        ...wasm.map((w) => ({ type: "CompiledWasm" as const, path: w.name, contents: w.contents })),
      ],
      compatibilityDate: "2025-06-01",
      bindings: { DB_URL: server.url },
    }));
    await mf.ready;
  });

  afterAll(async () => {
    await dispose();
    await server?.close();
  });

  it("runs SQL, vector search, a 10k-row transaction and a cursor in :memory:", async () => {
    const response = await mf.dispatchFetch("http://worker.test/memory");
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      one: 1,
      same: 0,
      orthogonal: 1,
      count: 10_000,
      total: (9_999 * 10_000) / 2,
      afterBatch: 10_001,
      streamed: 10_001,
      error: "SQLITE_ERROR",
      separate: "0",
      protocol: "file",
    });
    console.log(`workerd: 10k prepared inserts in one transaction took ${body.insertMs} ms`);
  });

  it("serves a second request from the same loaded engine, and remote URLs too", async () => {
    const again = await mf.dispatchFetch("http://worker.test/memory");
    expect(again.status).toBe(200);
    const remote = await mf.dispatchFetch("http://worker.test/remote");
    expect(await remote.json()).toEqual({ greeting: "from the server", protocol: "http" });
  });
});
