import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromiumSession, launchChromium } from "../browser/rig/chromium.js";
import { type HranaTestServer, startTestServer } from "../server/hrana-server.js";

const TOKEN = "browser-token-1357";

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** Serves the page and its two scripts on 127.0.0.1 (another origin than the Hrana server). */
async function servePage(): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    "/": ["text/html", '<!doctype html><script type="module" src="./page.js"></script>'],
    "/page.js": ["text/javascript", await bundle("./browser-page-entry.ts")],
    "/worker.js": ["text/javascript", await bundle("./browser-worker-entry.ts")],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? "/"];
    if (!file) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": file[0] });
    res.end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe("Hrana over HTTP in Chromium (page and dedicated worker, cross-origin)", () => {
  let hrana: HranaTestServer;
  let page: { server: Server; url: string };
  let chromium: ChromiumSession;

  beforeAll(async () => {
    hrana = await startTestServer({ authToken: TOKEN });
    page = await servePage();
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await new Promise<void>((resolve) => (page ? page.server.close(() => resolve()) : resolve()));
    await hrana?.close();
  });

  for (const where of ["Page", "Worker"] as const) {
    it(`works in the ${where.toLowerCase()}`, async () => {
      const tab = await chromium.context.newPage();
      try {
        await tab.goto(page.url);
        await tab.waitForFunction(() => "runInPage" in globalThis);
        hrana.requests.clear();
        const result = await tab.evaluate(
          ([fn, url, token]) =>
            (globalThis as unknown as Record<string, (u: string, t: string) => unknown>)[fn]!(url, token),
          [`runIn${where}`, hrana.url, TOKEN] as const,
        );
        expect(result).toMatchObject({ error: "SQL_PARSE_ERROR", protocol: "http", worker: where === "Worker" });
        const rows = (result as { rows: unknown[][] }).rows;
        expect(rows.slice(-2)).toEqual([
          ["é ✓", "00FF"],
          ["in tx", ""],
        ]);
        // The version probe is a simple request (never preflighted); the POSTs carry a token, so
        // they are (the browser caches the answer: the worker, run second, may not ask again).
        const methods = hrana.requests.entries.map((r) => `${r.method} ${r.path}`);
        expect(methods[0]).toBe("GET /v3");
        expect(methods).not.toContain("OPTIONS /v3");
        if (where === "Page") expect(methods).toContain("OPTIONS /v3/pipeline");
        expect(methods).toContain("POST /v3/cursor");
      } finally {
        await tab.close();
      }
    });
  }
});
