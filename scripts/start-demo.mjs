#!/usr/bin/env node
// `npm start`: the demo. Builds the page in demo/ with Vite (production build, engine
// worker and wasm included) and serves it on 127.0.0.1, beside a local remote database:
// the loopback Hrana test server (test/server), whose URL the page gets at build time
// (VITE_LIBSQL_REMOTE_URL), so that the same SQL can run locally and remotely.
//
//   npm start                       # http://127.0.0.1:5173/ (the next free port if taken)
//   node scripts/start-demo.mjs --port 0 --remote-db ./remote.db --dev
//
// --port N        the page's port (0: any free port; default 5173)
// --dev           serve with `vite dev` (reloads on edits) instead of a production build
// --remote-db P   the remote database's file (default: a temporary one, removed on exit)
// --no-remote     no remote database
//
// Prints "libsql-web demo: <url>" once the page is served; Ctrl+C stops everything.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";
import { build, createServer, preview } from "vite";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "5173" },
    dev: { type: "boolean", default: false },
    "remote-db": { type: "string" },
    "no-remote": { type: "boolean", default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer between 0 and 65535, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}

// The engine (wasm glue and optimised wasm): `npm start` builds it first; build it here when missing.
if (!existsSync(join(root, "engine", "sqlite3.wasm"))) {
  const built = spawnSync(process.execPath, [join(root, "scripts", "build-engine.mjs")], { stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const temp = await mkdtemp(join(tmpdir(), "libsql-web-demo-"));
const closers = [() => rm(temp, { recursive: true, force: true })];
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => stop(0));

try {
  if (!values["no-remote"]) {
    const { startTestServer } = await tsImport("../test/server/hrana-server.ts", import.meta.url);
    const remote = await startTestServer({ dbPath: values["remote-db"] });
    closers.push(() => remote.close());
    process.env.VITE_LIBSQL_REMOTE_URL = remote.url;
  }
  const config = {
    configFile: join(root, "vite.config.ts"),
    cacheDir: join(temp, "vite-cache"),
    logLevel: "warn",
  };
  const listen = { host: "127.0.0.1", port, strictPort: port === 0 };
  let url;
  if (values.dev) {
    const server = await createServer({ ...config, server: listen });
    closers.push(() => server.close());
    await server.listen();
    url = server.resolvedUrls?.local[0];
  } else {
    const outDir = join(temp, "dist");
    await build({ ...config, build: { outDir, emptyOutDir: true } });
    const server = await preview({ ...config, build: { outDir }, preview: listen });
    closers.push(() => server.close());
    url = server.resolvedUrls?.local[0];
  }
  if (!url) throw new Error("Vite did not report the page's URL");
  const remoteUrl = process.env.VITE_LIBSQL_REMOTE_URL;
  console.log(`libsql-web demo: ${url}${remoteUrl ? ` (remote: ${remoteUrl})` : ""}`);
  console.log("Press Ctrl+C to stop.");
} catch (error) {
  console.error(error);
  await stop(1);
}
