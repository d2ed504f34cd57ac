import type { Plugin } from "vite";

/** Options of the libsql-web Vite plugin. */
export interface LibsqlWebViteOptions {
  /**
   * Send `Cross-Origin-Opener-Policy: same-origin` and
   * `Cross-Origin-Embedder-Policy: require-corp` from `vite dev` and `vite
   * preview`, which makes the page cross-origin isolated. Only the `opfs`
   * storage needs it (default `opfs-sahpool` does not); production hosting
   * must send the same headers.
   */
  crossOriginIsolation?: boolean;
}

/** Packages Vite's dependency optimiser must leave alone: their `new URL(..., import.meta.url)` assets must stay beside them. */
const KEEP_UNBUNDLED = ["libsql-web", "@libsql/libsql-wasm-experimental"];

const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
} as const;

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
  return {
    name: "libsql-web",
    config: () => ({
      worker: { format: "es" },
      optimizeDeps: { exclude: KEEP_UNBUNDLED },
      ...(options.crossOriginIsolation
        ? { server: { headers: ISOLATION_HEADERS }, preview: { headers: ISOLATION_HEADERS } }
        : {}),
    }),
  };
}

export default libsqlWeb;
