/**
 * Vite's config for the demo (`demo/`): libsql-web's plugin (module worker, wasm kept
 * beside its glue; the page cross-origin isolated, so that calls take the
 * shared lane) and 127.0.0.1 only. `scripts/start-demo.mjs` (`npm start`)
 * builds and serves it with a local remote database beside it; `npx vite`
 * serves it alone, for work on the page.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { libsqlWeb } from "./src/vite-plugin.js";

export default defineConfig({
  root: join(dirname(fileURLToPath(import.meta.url)), "demo"),
  base: "./",
  plugins: [libsqlWeb({ crossOriginIsolation: true })],
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
  build: { reportCompressedSize: false },
});
