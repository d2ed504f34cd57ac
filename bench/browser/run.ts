/**
 * Browser benchmark: libsql-web's client in Chromium (production build, the
 * engine in its worker) against a bare `postMessage` round trip and the raw
 * C API inside a worker, measured in the same run and printed as ratios.
 *
 *   npm run bench:browser
 *
 * Both sides use memory databases (the raw baseline of the issue), so the
 * ratios show the cost of the client and the worker RPC, not of storage.
 * Environment: BENCH_RUNS (default 5), BENCH_PER_ROW=0 skips the two
 * insert paths that make one round trip per row (each takes ~10 s a run),
 * BENCH_ONLY=trips,insert,read picks sections (all by default).
 * Not a test: it prints figures and the goals of issue 3.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { build, type InlineConfig, preview } from "vite";
import { DEFAULT_CHUNK_SIZE } from "../../src/cursor.js";
import { libsqlWeb } from "../../src/vite-plugin.js";
import { type ChromiumSession, launchChromium } from "../../test/browser/rig/chromium.js";
import type { InsertPath } from "./main.js";
import { WorkerHeap } from "./worker-heap.js";
import { type BaselineOp, ROWS, SELECTS, STREAM_ROWS, TRIP_KINDS, type TripKind } from "./workload.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PER_ROW = process.env.BENCH_PER_ROW !== "0";
/** The sections to measure: round trips, inserts, reads and streams. */
const SECTIONS = new Set((process.env.BENCH_ONLY ?? "trips,insert,read").split(","));
const TRIP_BLOCKS = 10;
const TRIPS_PER_BLOCK = 500;
/** Cursor chunk sizes streamed: a small one, the default, a large one. */
const CHUNK_SIZES = [1000, DEFAULT_CHUNK_SIZE, 10_000];
const SAMPLE_EVERY_MS = 25;
/** Raw-then-client insert pairs per path and run: one pair's ratio swings with this machine's load. */
const INSERT_PAIRS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The median of three timings of `run`, one after the other. */
async function medianOf3(run: () => Promise<number>): Promise<number> {
  const times = [await run(), await run(), await run()];
  return median(times);
}

/** Collects timings per workload name over the runs. */
class Timings {
  readonly #values = new Map<string, number[]>();
  add(name: string, ms: number): void {
    const list = this.#values.get(name) ?? [];
    list.push(ms);
    this.#values.set(name, list);
  }
  median(name: string): number {
    return median(this.#values.get(name) ?? [Number.NaN]);
  }
  spread(name: string): string {
    const list = this.#values.get(name) ?? [];
    return `${Math.min(...list).toFixed(0)}-${Math.max(...list).toFixed(0)}`;
  }
  /**
   * The median over runs of `name` ÷ `base` measured in the same run: on a
   * shared machine whose load comes and goes, steadier than a ratio of medians.
   */
  ratio(name: string, base: string): number {
    const a = this.#values.get(name) ?? [];
    const b = this.#values.get(base) ?? [];
    return median(a.map((v, i) => v / (b[i] as number)));
  }
  /**
   * The fastest run of `name` ÷ the fastest of `base`: load on this machine
   * only ever adds time, so this is the nearest to what each costs alone.
   */
  best(name: string, base: string): number {
    return Math.min(...(this.#values.get(name) ?? [])) / Math.min(...(this.#values.get(base) ?? []));
  }
}

/** Builds the bench page for production and serves it, cross-origin isolated (precise timers), on 127.0.0.1. */
async function servePage(temp: string): Promise<{ url: string; close(): Promise<void> }> {
  const config: InlineConfig = {
    configFile: false,
    root: dirname(fileURLToPath(import.meta.url)),
    base: "./",
    cacheDir: join(temp, "vite-cache"),
    logLevel: "warn",
    plugins: [libsqlWeb({ crossOriginIsolation: true })],
  };
  const outDir = join(temp, "dist");
  await build({ ...config, mode: "production", build: { outDir, emptyOutDir: true, reportCompressedSize: false } });
  const server = await preview({
    ...config,
    build: { outDir },
    preview: { host: "127.0.0.1", port: 0, strictPort: true },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("vite preview did not report its URL");
  return { url, close: () => server.close() };
}

/** Streams through the client while sampling the engine worker's heap; returns the time and the memory seen. */
async function streamWithSamples(page: Page, heap: WorkerHeap, chunkSize: number): Promise<{ ms: number } & Memory> {
  await heap.collectGarbage();
  const before = await heap.sample();
  const wasmBefore = await heap.wasmMemoryBytes();
  let peak = before.usedSize;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await heap.sample()).usedSize);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();
  let ms: number;
  try {
    ms = await page.evaluate((size) => window.bench.stream(size), chunkSize);
  } finally {
    sampling = false;
    await sampler;
  }
  return {
    ms,
    chunkSize,
    heapBefore: before.usedSize,
    heapPeak: peak,
    wasmBefore,
    wasmAfter: await heap.wasmMemoryBytes(),
  };
}

/** The engine worker's memory around one streaming run. */
interface Memory {
  chunkSize: number;
  heapBefore: number;
  heapPeak: number;
  wasmBefore: number;
  wasmAfter: number;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const us = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(1)} µs`;

function line(name: string, value: string, base = "", note = ""): void {
  console.log(`${name.padEnd(56)} ${value.padStart(12)}  ${base.padStart(16)}  ${note}`);
}

/** Prints the round trips against the bare one. */
function printTrips(trips: Record<TripKind, number[]>, t: Timings): void {
  console.log(
    `\nPer-statement round trip page → worker → page, ${TRIP_BLOCKS * RUNS} blocks of ${TRIPS_PER_BLOCK} (goal ≤ 1.15x bare)`,
  );
  const perTrip = (kind: TripKind) => median(trips[kind]) / TRIPS_PER_BLOCK;
  const ratio = (kind: TripKind, base: TripKind = "bare") =>
    median(trips[kind].map((ms, i) => ms / (trips[base][i] as number)));
  line("bare postMessage round trip (MessagePort)", us(perTrip("bare"), 1));
  line("raw point select inside the worker", us(t.median("raw points"), SELECTS));
  line("engine.execute() point select inside the worker", us(t.median("engine points"), SELECTS));
  for (const [name, kind] of [
    ["bare round trip on the worker's own channel", "bare-worker"],
    ["bare round trip carrying a point select's messages", "bare-payload"],
    ["  the same, the worker's engine running the select", "bare-engine"],
    ["protocol alone: WorkerEngine to an engine doing nothing", "stub"],
    ["  the same, messages only (no shared lane)", "stub-message"],
    ["worker transport execute() (no client)", "transport"],
    ["client.execute()", "execute"],
    ["  the same, messages only (no shared lane)", "execute-message"],
    ["  the same, messages only, on a MessagePort", "execute-message-port"],
    ["client prepared statement get()", "get"],
    ["  the same, messages only (no shared lane)", "get-message"],
  ] as const) {
    // Against the bare round trip the client's channel has too (the worker's own), the stricter ratio.
    const strict =
      kind === "bare-worker" || kind === "execute-message-port"
        ? ""
        : `, ${ratio(kind, "bare-worker").toFixed(2)}x own-channel bare`;
    // A call by message that runs SQL against the least such a call costs: the floor with the engine's select.
    const floor =
      kind === "execute-message" || kind === "get-message" || kind === "execute-message-port"
        ? `, ${ratio(kind, "bare-engine").toFixed(2)}x its floor`
        : "";
    line(
      name,
      us(perTrip(kind), 1),
      `bare ${us(perTrip("bare"), 1)}`,
      `ratio ${ratio(kind).toFixed(2)}x (per block)${strict}${floor}`,
    );
  }
}

/** Prints the inserts against the raw C API. */
function printInserts(t: Timings, insertPaths: InsertPath[]): void {
  console.log(
    `\nInsert ${ROWS / 1000}k rows in one transaction, ${RUNS * INSERT_PAIRS} raw/client pairs a path (goal ≤ 1.2x raw)`,
  );
  const rawInsert = t.median("raw insert");
  line("raw C API inside the worker", `${rawInsert.toFixed(0)} ms`, "", `runs ${t.spread("raw insert")} ms`);
  const engineInsert = t.median("engine insert");
  line(
    "engine.batch() inside the worker (client-shaped steps)",
    `${engineInsert.toFixed(0)} ms`,
    `raw ${rawInsert.toFixed(0)} ms`,
    `ratio ${t.ratio("engine insert", "raw insert").toFixed(2)}x`,
  );
  line(
    "engine.runMany() inside the worker (lists packed)",
    `${t.median("engine runMany").toFixed(0)} ms`,
    `raw ${rawInsert.toFixed(0)} ms`,
    `ratio ${t.ratio("engine runMany", "raw insert before engine runMany").toFixed(2)}x (best runs ${t.best("engine runMany", "raw insert before engine runMany").toFixed(2)}x)`,
  );
  line(
    "  binding and running only (lists packed before)",
    `${t.median("engine bound").toFixed(0)} ms`,
    `raw ${rawInsert.toFixed(0)} ms`,
    `ratio ${t.ratio("engine bound", "raw insert before engine bound").toFixed(2)}x (best runs ${t.best("engine bound", "raw insert before engine bound").toFixed(2)}x)`,
  );
  for (const path of insertPaths) {
    const ms = t.median(`insert ${path}`);
    line(
      `client: ${path}`,
      `${ms.toFixed(0)} ms`,
      `raw ${rawInsert.toFixed(0)} ms`,
      `ratio ${t.ratio(`insert ${path}`, `raw insert before ${path}`).toFixed(2)}x (best runs ${t.best(`insert ${path}`, `raw insert before ${path}`).toFixed(2)}x), runs ${t.spread(`insert ${path}`)} ms`,
    );
  }
}

/** Runs every workload in the page at `url` and prints the figures. */
async function benchmark(url: string, chromium: ChromiumSession): Promise<void> {
  const page = await chromium.context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.bench !== undefined);
  const started = await page.evaluate(() => window.bench.start());
  const heap = await WorkerHeap.attach(page, (title) => title === "libsql-web");
  const t = new Timings();
  const trips = Object.fromEntries(TRIP_KINDS.map((kind) => [kind, [] as number[]])) as Record<TripKind, number[]>;
  const memory: Memory[] = [];
  const insertPaths: InsertPath[] = PER_ROW
    ? ["run-many", "run-many-generator", "batch", "tx-batch", "tx-prepared-run", "tx-execute"]
    : ["run-many", "run-many-generator", "batch", "tx-batch"];
  const baseline = (op: BaselineOp) => page.evaluate((o) => window.bench.baseline(o), op);
  for (let run = 0; run < RUNS; run++) {
    process.stderr.write(`run ${run + 1}/${RUNS}\n`);
    if (SECTIONS.has("trips")) {
      const blocks = await page.evaluate(([b, n]) => window.bench.roundTrips(b, n), [TRIP_BLOCKS, TRIPS_PER_BLOCK]);
      for (const kind of Object.keys(trips) as TripKind[]) trips[kind].push(...blocks[kind]);
      t.add("raw points", await baseline("points"));
      t.add("engine points", await baseline("engine-points"));
    }
    if (SECTIONS.has("insert")) {
      t.add("raw insert", await baseline("insert"));
      t.add("engine insert", await baseline("engine-insert"));
      t.add("raw insert before engine runMany", await baseline("insert"));
      t.add("engine runMany", await baseline("engine-run-many"));
      t.add("raw insert before engine bound", await baseline("insert"));
      t.add("engine bound", await baseline("engine-run-many-bound"));
      for (const path of insertPaths) {
        // A raw run right before each of the path's, so that each ratio compares like with like.
        for (let pair = 0; pair < INSERT_PAIRS; pair++) {
          t.add(`raw insert before ${path}`, await baseline("insert"));
          t.add(`insert ${path}`, await page.evaluate((p) => window.bench.insert(p), path));
        }
      }
    }
    if (!SECTIONS.has("read")) continue;
    // Reads are short (~100 ms) and the first after other work is the slowest: each side reads three times in a row.
    t.add("raw read", await medianOf3(() => baseline("read")));
    t.add("engine read", await medianOf3(() => baseline("engine-read")));
    t.add("read execute", await medianOf3(() => page.evaluate(() => window.bench.read())));
    t.add("raw stream", await baseline("stream"));
    t.add("engine stream", await baseline("engine-stream"));
    for (const chunkSize of CHUNK_SIZES) {
      const sampled = await streamWithSamples(page, heap, chunkSize);
      t.add(`stream ${chunkSize}`, sampled.ms);
      memory.push(sampled);
    }
  }
  await heap.detach();
  await page.evaluate(() => window.bench.stop());

  console.log(
    `libsql-web browser benchmark: memory databases, production build, Chromium ${chromium.context.browser()?.version() ?? ""}, ` +
      `median of ${RUNS} runs (cross-origin isolated: ${started.crossOriginIsolated}; ` +
      `shared lane answered ${started.laneAnswers} of 2 probe calls)`,
  );
  console.log(
    "Ratios are medians of per-run (per-block) ratios, each against a baseline measured in the same run (block);",
  );
  console.log("best runs = the fastest run of each side, compared (load here only ever adds time).");
  console.log(
    "raw = the C API inside a worker; engine = libsql-web's Engine inside a worker, rows packed for the page (no messages); client = the page",
  );

  if (SECTIONS.has("trips")) printTrips(trips, t);
  if (SECTIONS.has("insert")) printInserts(t, insertPaths);
  if (!SECTIONS.has("read")) return;
  console.log("\nReading (goal ≥ 0.7x the raw rate)");
  const rate = (name: string, base: string) =>
    `rate ${(1 / t.ratio(name, base)).toFixed(2)}x raw (best runs ${(1 / t.best(name, base)).toFixed(2)}x)`;
  line(`read ${ROWS / 1000}k rows as one result: raw`, `${t.median("raw read").toFixed(0)} ms`);
  line(
    "  engine.execute() inside the worker",
    `${t.median("engine read").toFixed(0)} ms`,
    "",
    rate("engine read", "raw read"),
  );
  line("  client.execute()", `${t.median("read execute").toFixed(0)} ms`, "", rate("read execute", "raw read"));
  line(`stream ${STREAM_ROWS / 1e6}M rows: raw iteration`, `${t.median("raw stream").toFixed(0)} ms`);
  line(
    "  engine cursor inside the worker (1000-row chunks)",
    `${t.median("engine stream").toFixed(0)} ms`,
    "",
    rate("engine stream", "raw stream"),
  );
  for (const chunkSize of CHUNK_SIZES) {
    line(
      `  client.cursor(), chunkSize ${chunkSize}${chunkSize === DEFAULT_CHUNK_SIZE ? " (default)" : ""}`,
      `${t.median(`stream ${chunkSize}`).toFixed(0)} ms`,
      "",
      rate(`stream ${chunkSize}`, "raw stream"),
    );
  }

  console.log("\nEngine worker memory while the client streams (CDP on the worker target, GC first; worst run)");
  console.log("JS heap: Runtime.getHeapUsage sampled every 25 ms; wasm: WebAssembly.Memory buffers before and after");
  for (const chunkSize of CHUNK_SIZES) {
    const runs = memory.filter((m) => m.chunkSize === chunkSize);
    const worst = runs.reduce((a, b) => (b.heapPeak - b.heapBefore > a.heapPeak - a.heapBefore ? b : a));
    line(
      `chunkSize ${chunkSize}: JS heap before → peak`,
      `${mb(worst.heapBefore)} → ${mb(worst.heapPeak)}`,
      `+${mb(worst.heapPeak - worst.heapBefore)}`,
      `wasm memory ${mb(worst.wasmBefore)} → ${mb(Math.max(...runs.map((m) => m.wasmAfter)))}`,
    );
  }
}

async function main() {
  const temp = await mkdtemp(join(tmpdir(), "libsql-web-bench-"));
  let server: { url: string; close(): Promise<void> } | undefined;
  let chromium: ChromiumSession | undefined;
  try {
    server = await servePage(temp);
    chromium = await launchChromium();
    await benchmark(server.url, chromium);
  } finally {
    await chromium?.close();
    await server?.close();
    await rm(temp, { recursive: true, force: true });
  }
}

await main();
