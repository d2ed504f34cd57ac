import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { launchChromium } from "./rig/chromium.js";
import { buildPage, startDevServer, startPreviewServer } from "./rig/page-server.js";

describe("Vite and libsql-web's plugin", () => {
  it("builds the engine's worker with the optimised wasm as an asset and the glue loaded lazily", async () => {
    const temp = await mkdtemp(join(tmpdir(), "libsql-web-build-"));
    try {
      await buildPage(join(temp, "dist"), join(temp, "cache"));
      const assets = await readdir(join(temp, "dist", "assets"));
      const wasm = assets.filter((name) => name.endsWith(".wasm"));
      expect(wasm).toHaveLength(1);
      const engineWasm = await stat(new URL("../../engine/sqlite3.wasm", import.meta.url));
      expect((await stat(join(temp, "dist", "assets", wasm[0] as string))).size).toBe(engineWasm.size);
      expect(assets.some((name) => name.startsWith("sqlite3-opfs-async-proxy-"))).toBe(true);
      expect(assets.some((name) => name.startsWith("sqlite3-bundler-friendly-"))).toBe(true);
      expect(assets.some((name) => name.includes("worker1"))).toBe(false);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });

  it("serves the worker and the engine from source with vite dev", async () => {
    const server = await startDevServer();
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => window.lib !== undefined, undefined, { timeout: 30_000 });
      const result = await page.evaluate(async () => {
        const { lib } = window;
        const memory = await lib.openWorkerTransport({ storage: "memory", path: "" });
        const vector = await memory.main.execute({ sql: "SELECT vector_extract(vector('[1,2,3]'))" }, "number");
        await memory.close();
        const persistent = await lib.openWorkerTransport({ storage: "opfs-sahpool", path: "dev.db" });
        await persistent.main.sequence("CREATE TABLE t(v); INSERT INTO t VALUES ('dev');");
        const { rows } = await persistent.main.execute({ sql: "SELECT v FROM t" }, "number");
        await persistent.close();
        return { vector: vector.rows, rows };
      });
      expect(result).toEqual({ vector: [["[1,2,3]"]], rows: [["dev"]] });
    } finally {
      await chromium.close();
      await server.close();
    }
  });

  for (const [isolation, embedder, start] of [
    [true, "require-corp", startDevServer],
    ["credentialless", "credentialless", startPreviewServer],
  ] as const) {
    it(`makes the page cross-origin isolated with crossOriginIsolation: ${JSON.stringify(isolation)}, and calls take the shared lane`, async () => {
      const server = await start({ crossOriginIsolation: isolation });
      const chromium = await launchChromium();
      try {
        const page = await chromium.context.newPage();
        const response = await page.goto(server.url);
        expect(response?.headers()["cross-origin-opener-policy"]).toBe("same-origin");
        expect(response?.headers()["cross-origin-embedder-policy"]).toBe(embedder);
        await page.waitForFunction(() => window.lib !== undefined, undefined, { timeout: 30_000 });
        const result = await page.evaluate(async () => {
          const { lib } = window;
          // Long waits on the lane, so that a loaded machine cannot make the test miss it.
          const { engine, conn } = await lib.openEngine({
            sharedLane: true,
            laneTiming: { lingerMs: 1000, sliceMs: 1000 },
          });
          for (let i = 0; i < 5; i++) await engine.execute(conn, { sql: "SELECT ?", args: [i] }, "number");
          const answers = engine.laneAnswers;
          engine.end("done");
          return { isolated: crossOriginIsolated, answers };
        });
        expect(result.isolated).toBe(true);
        // The first call finds the worker in its event loop; after it, the worker waits on the lane.
        expect(result.answers).toBeGreaterThanOrEqual(3);
      } finally {
        await chromium.close();
        await server.close();
      }
    });
  }
});
