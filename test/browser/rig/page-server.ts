import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, createServer, type InlineConfig, type Plugin, preview } from "vite";
import { libsqlWeb } from "../../../src/vite-plugin.js";

/** The test page's source folder. */
export const PAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "page");

/** A running server for the test page. */
export interface PageServer {
  /** Base URL of the page ("http://127.0.0.1:<port>/"); under `coi/` the same files are cross-origin isolated. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves every file under `/coi/` as well, with the headers that make a page
 * cross-origin isolated (what the `opfs` VFS needs); the same origin, so the
 * same OPFS, with and without isolation.
 */
function isolatedUnderCoi(): Plugin {
  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.url?.startsWith("/coi/")) {
      req.url = req.url.slice("/coi".length);
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    }
    next();
  };
  return {
    name: "isolated-under-coi",
    configureServer: (server) => {
      server.middlewares.use(middleware);
    },
    configurePreviewServer: (server) => {
      server.middlewares.use(middleware);
    },
  };
}

/**
 * Keeps the side-effect imports of the page's worker fixtures (`import "./remove-opfs.js"`,
 * `import ".../worker/main.ts"`), which the package's `"sideEffects": false` would drop.
 */
function fixturesHaveSideEffects(): Plugin {
  const fixture = /\/test\/browser\/page\/[^/]+\.js$|\/worker\/main\.ts$/;
  return {
    name: "fixtures-have-side-effects",
    transform: (code, id) => (fixture.test(id) ? { code, moduleSideEffects: true } : undefined),
  };
}

function baseConfig(cacheDir: string): InlineConfig {
  return {
    configFile: false,
    root: PAGE_ROOT,
    base: "./",
    cacheDir,
    logLevel: "warn",
    plugins: [libsqlWeb(), isolatedUnderCoi()],
    worker: { plugins: () => [fixturesHaveSideEffects()] },
  };
}

/** Builds the test page with `vite build` into `outDir`. */
export async function buildPage(outDir: string, cacheDir: string): Promise<void> {
  await build({ ...baseConfig(cacheDir), build: { outDir, emptyOutDir: true, reportCompressedSize: false } });
}

/** Builds the test page (`vite build`) into a temporary folder and serves it with `vite preview` on 127.0.0.1. */
export async function startPreviewServer(): Promise<PageServer> {
  const temp = await mkdtemp(join(tmpdir(), "libsql-web-page-"));
  const outDir = join(temp, "dist");
  try {
    const config = baseConfig(join(temp, "vite-cache"));
    await buildPage(outDir, config.cacheDir as string);
    const server = await preview({
      ...config,
      build: { outDir },
      preview: { host: "127.0.0.1", port: 0, strictPort: true },
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error("vite preview did not report its URL");
    return {
      url,
      async close() {
        try {
          await server.close();
        } finally {
          await rm(temp, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Serves the test page from source with `vite dev` on 127.0.0.1. */
export async function startDevServer(): Promise<PageServer> {
  const temp = await mkdtemp(join(tmpdir(), "libsql-web-dev-"));
  try {
    const server = await createServer({
      ...baseConfig(join(temp, "vite-cache")),
      server: { host: "127.0.0.1", port: 0, strictPort: true, hmr: false, watch: null },
    });
    await server.listen();
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error("vite dev did not report its URL");
    return {
      url,
      async close() {
        try {
          await server.close();
        } finally {
          await rm(temp, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
