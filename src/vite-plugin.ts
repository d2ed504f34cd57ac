import type { Plugin } from "vite";

/** Options of the libsql-web Vite plugin. */
export interface LibsqlWebViteOptions {
  /**
   * Make the page cross-origin isolated from `vite dev` and `vite preview`:
   * send `Cross-Origin-Opener-Policy: same-origin` and
   * `Cross-Origin-Embedder-Policy: require-corp` (`true`), or
   * `Cross-Origin-Embedder-Policy: credentialless` (`"credentialless"`:
   * cross-origin images and scripts then load without CORP headers, sent
   * without credentials, in browsers that support it, such as Chromium and
   * Firefox). An isolated page lets calls take the shared lane (a
   * statement's round trip costs ~0.7x one by message, measured here) and
   * allows the `opfs` storage; the default `opfs-sahpool` works either way.
   * Production hosting must send the same headers.
   */
  crossOriginIsolation?: boolean | "credentialless";
}

/** Packages Vite's dependency optimiser must leave alone: their `new URL(..., import.meta.url)` assets must stay beside them. */
const KEEP_UNBUNDLED = ["libsql-web", "@libsql/libsql-wasm-experimental"];

/** The headers that make a page cross-origin isolated, with COEP `embedder`. */
function isolationHeaders(embedder: "require-corp" | "credentialless"): Record<string, string> {
  return { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": embedder };
}

/**
 * What Vite needs to serve and build libsql-web: the engine's worker as an ES
 * module worker (it imports the engine lazily), libsql-web and the wasm
 * package kept out of dependency pre-bundling (which would separate the glue
 * from `sqlite3.wasm`; Vite 7 then serves `index.html` for the wasm), and
 * optionally the headers for cross-origin isolation. The wasm itself is
 * emitted as an asset by Vite's `new URL(..., import.meta.url)` handling.
 *
 * @example
 * // vite.config.ts
 * import { defineConfig } from "vite";
 * import libsqlWeb from "libsql-web/vite";
 * export default defineConfig({ plugins: [libsqlWeb()] });
 */
export function libsqlWeb(options: LibsqlWebViteOptions = {}): Plugin {
  const { crossOriginIsolation } = options;
  const headers = crossOriginIsolation
    ? isolationHeaders(crossOriginIsolation === "credentialless" ? "credentialless" : "require-corp")
    : undefined;
  return {
    name: "libsql-web",
    config: () => ({
      worker: { format: "es" },
      optimizeDeps: { exclude: KEEP_UNBUNDLED },
      ...(headers ? { server: { headers }, preview: { headers } } : {}),
    }),
  };
}

export default libsqlWeb;
