import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, createServer, type InlineConfig, type Plugin, preview } from "vite";
import { type LibsqlWebViteOptions, libsqlWeb } from "../../../src/vite-plugin.js";

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

/** `plugin`: the options libsql-web's plugin is given. */
function baseConfig(cacheDir: string, plugin: LibsqlWebViteOptions = {}): InlineConfig {
  return {
    configFile: false,
    root: PAGE_ROOT,
    base: "./",
    cacheDir,
    logLevel: "warn",
    plugins: [libsqlWeb(plugin), isolatedUnderCoi()],
    worker: { plugins: () => [fixturesHaveSideEffects()] },
  };
}

/** Builds the test page with `vite build` into `outDir`. */
export async function buildPage(outDir: string, cacheDir: string): Promise<void> {
  await build({ ...baseConfig(cacheDir), build: { outDir, emptyOutDir: true, reportCompressedSize: false } });
}

/**
 * Builds the test page (`vite build`) into a temporary folder and serves it
 * with `vite preview` on 127.0.0.1; `plugin`: the options of libsql-web's plugin.
 */
export function startPreviewServer(plugin: LibsqlWebViteOptions = {}): Promise<PageServer> {
  return serveFromTemp("libsql-web-page-", "vite preview", async (temp) => {
    const outDir = join(temp, "dist");
    const config = baseConfig(join(temp, "vite-cache"), plugin);
    await buildPage(outDir, config.cacheDir as string);
    return preview({ ...config, build: { outDir }, preview: { host: "127.0.0.1", port: 0, strictPort: true } });
  });
}

/** Serves the test page from source with `vite dev` on 127.0.0.1; `plugin`: the options of libsql-web's plugin. */
export function startDevServer(plugin: LibsqlWebViteOptions = {}): Promise<PageServer> {
  return serveFromTemp("libsql-web-dev-", "vite dev", async (temp) => {
    const server = await createServer({
      ...baseConfig(join(temp, "vite-cache"), plugin),
      server: { host: "127.0.0.1", port: 0, strictPort: true, hmr: false, watch: null },
    });
    await server.listen();
    return server;
  });
}

/** A Vite server, as far as serving the page goes. */
interface ViteServer {
  resolvedUrls: { local: string[] } | null;
  close(): Promise<void>;
}

/**
 * Starts a server (`what`, for errors) with a fresh temporary folder, which
 * goes when the server closes or fails to start.
 */
async function serveFromTemp(
  prefix: string,
  what: string,
  start: (temp: string) => Promise<ViteServer>,
): Promise<PageServer> {
  const temp = await mkdtemp(join(tmpdir(), prefix));
  try {
    const server = await start(temp);
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error(`${what} did not report its URL`);
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
