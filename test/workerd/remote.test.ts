import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HranaTestServer, startTestServer } from "../server/hrana-server.js";
import { scratchMiniflare } from "./scratch-miniflare.js";

const TOKEN = "workerd-token-2468";

/** The test worker bundled as workerd runs it: ESM, browser-like, no Node built-ins. */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./remote-worker.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe("Cloudflare Workers (workerd via miniflare): the remote entry", () => {
  let server: HranaTestServer;
  let mf: Miniflare;
  let dispose: () => Promise<void> = async () => {};

  beforeAll(async () => {
    server = await startTestServer({ authToken: TOKEN });
    ({ mf, dispose } = await scratchMiniflare({
      modules: true,
      script: await bundleWorker(),
      compatibilityDate: "2025-06-01",
      bindings: { DB_URL: server.url, DB_TOKEN: TOKEN },
    }));
    await mf.ready;
  });

  afterAll(async () => {
    await dispose();
    await server?.close();
  });

  it("runs statements, batches, a transaction and a cursor against the loopback server", async () => {
    const response = await mf.dispatchFetch("http://worker.test/");
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      protocol: "http",
      rowid: "1",
      count: "1",
      hex: "010203",
      inside: "2",
      streamed: ["1", "2", "3", "4", "5"],
      // sqld reports a prepare-time failure as SQL_INPUT_ERROR, and so does the test server.
      error: { code: "SQL_INPUT_ERROR", message: expect.stringMatching(/no such table: missing/) },
    });
    expect(server.requests.count("/v3/cursor")).toBe(1);
    expect((server.db.prepare("SELECT count(*) AS n FROM visits").get() as { n: number }).n).toBe(1);
  });
});
