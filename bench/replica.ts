/**
 * Embedded replica benchmark over loopback, against the test server (native
 * libSQL serving its real WAL frames) running in a process of its own:
 *
 *   npx tsx bench/replica.ts                  # 50 MB, 1,000 transactions
 *   BENCH_MB=10 BENCH_TRANSACTIONS=200 npx tsx bench/replica.ts
 *
 * 1. a pull of 50 MB of WAL frames (a replica starting from an empty
 *    generation), end to end, and the engine's apply step alone on them;
 * 2. bootstrap of the same 50 MB database from `/export/{g}`;
 * 3. an incremental sync of 1,000 small transactions, checking that only the
 *    new frames travel (bytes received = new frames × 4120).
 * The goal is ≥ 50 MB/s applied.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "../src/node.js";
import { createNodeEngine } from "../worker/node/node-engine.js";

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_MB ?? 50);
const TRANSACTIONS = Number(process.env.BENCH_TRANSACTIONS ?? 1000);
const FRAME = 4120;
const SERVER = fileURLToPath(new URL("../test/replica/children/sync-server.ts", import.meta.url));

interface Frames {
  generation: number;
  frameCount: number;
}

const dir = mkdtempSync(join(tmpdir(), "libsql-web-replica-bench-"));
const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SERVER, join(dir, "primary.db")], {
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve, reject) => {
  child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", (line) =>
    resolve((JSON.parse(line) as { url: string }).url),
  );
});

async function call<T>(method: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { method });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return (await response.json()) as T;
}

function rate(bytes: number, ms: number): string {
  return `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`;
}

try {
  // 1. Generation 1's frames are the whole database.
  const filled = await call<Frames>("POST", `/bench/fill?mb=${SIZE_MB}`);
  const frameBytes = filled.frameCount * FRAME;
  const fromFrames = createClient({ url: `file:${join(dir, "from-frames.db")}`, syncUrl: url });
  // Opening loads the engine and bootstraps generation 1's base (one page): not part of the pull.
  await fromFrames.execute("SELECT 1");
  let started = performance.now();
  const pulled = await fromFrames.sync();
  let ms = performance.now() - started;
  console.log(
    `pull ${filled.frameCount} frames (${(frameBytes / MB).toFixed(1)} MB) end to end: ${ms.toFixed(0)} ms, ${rate(frameBytes, ms)}, ${Math.round(filled.frameCount / (ms / 1000))} frames/s (synced ${pulled?.frames_synced})`,
  );
  fromFrames.close();

  // The engine's apply step alone, on the same frames, over generation 1's base.
  const engine = createNodeEngine();
  const conn = await engine.open({ storage: "file", path: join(dir, "apply-only.db") });
  const base = new Uint8Array(await (await fetch(`${url}/export/1`)).arrayBuffer());
  await engine.replicaWriteImage(conn, base);
  const frames = new Uint8Array(await (await fetch(`${url}/sync/1/1/${filled.frameCount + 1}`)).arrayBuffer());
  started = performance.now();
  const applied = await engine.replicaApplyFrames(conn, frames);
  ms = performance.now() - started;
  console.log(
    `apply ${applied.frames} frames (${applied.pages} pages) in one batch: ${ms.toFixed(0)} ms, ${rate(frames.length, ms)}, ${Math.round(applied.frames / (ms / 1000))} frames/s`,
  );
  await engine.close(conn);

  // 2. Bootstrap from the export of the checkpointed database.
  await call("POST", "/admin/checkpoint");
  let downloadedAt = 0;
  let exportBytes = 0;
  started = performance.now();
  const replica = createClient({
    url: `file:${join(dir, "replica.db")}`,
    syncUrl: url,
    onSyncProgress: (p) => {
      if (p.phase === "bootstrap" && p.bytesDone === p.bytesExpected) {
        downloadedAt = performance.now();
        exportBytes = p.bytesDone;
      }
    },
  });
  await replica.execute("SELECT 1");
  ms = performance.now() - started;
  const writeMs = performance.now() - downloadedAt;
  console.log(
    `bootstrap ${(exportBytes / MB).toFixed(1)} MB: ${ms.toFixed(0)} ms, ${rate(exportBytes, ms)} (writing the image: ${writeMs.toFixed(0)} ms, ${rate(exportBytes, writeMs)})`,
  );

  // 3. Incremental sync of small transactions: only the new frames may travel.
  await replica.sync();
  const before = await call<Frames>("GET", "/bench/frames");
  const after = await call<Frames>("POST", `/bench/small?n=${TRANSACTIONS}`);
  const added = after.frameCount - before.frameCount;
  let received = 0;
  replica.replica.subscribe((event) => {
    if (event.type === "progress" && event.progress.phase === "pull") received = event.progress.bytesDone;
  });
  started = performance.now();
  const incremental = await replica.sync();
  ms = performance.now() - started;
  const synced = incremental?.frames_synced ?? 0;
  console.log(
    `incremental sync of ${TRANSACTIONS} transactions: ${synced} frames in ${ms.toFixed(0)} ms, ${Math.round(synced / (ms / 1000))} frames/s, ${rate(received, ms)}; received ${received} bytes = ${added} new frames × ${FRAME}: ${received === added * FRAME && synced === added}`,
  );
  const rows = (await replica.execute("SELECT count(*) AS n FROM t")).rows[0]?.n;
  console.log(`rows in the replica: ${rows}`);
  replica.close();
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
