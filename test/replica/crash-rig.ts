import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { EncryptionSpec } from "../../src/proto.js";
import { receivedRow } from "../../src/received-rows.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { expectInSync, type Rig, readMeta } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./children/replica-sync.ts", import.meta.url));
const ROWS_PER_TRANSACTION = 40;

/** Rows the primary had after each transaction, by generation and frame. */
type Timeline = Map<string, number>;

/** How a series of crash trials runs. */
export interface CrashTrials {
  /** The server's auth token. */
  token: string;
  /** Kills that must land inside a sync (trials that finish first do not count). */
  kills: number;
  /** Trials at most, to reach `kills`. */
  maxTrials: number;
  /** SQL of each row's value (default: 1,000 random bytes). */
  value?: string;
  /** A statement each transaction runs after its inserts (e.g. to change existing pages too). */
  update?: string;
  /** The replica's encryption key, if it is encrypted. */
  encryptionKey?: string;
  /** Runs on the files a killed process left, before anything opens them (a hot journal is still there). */
  afterKill?: () => void;
}

/**
 * Kills a replica process (`children/replica-sync.ts`) at random points while
 * it applies frames, over and over: mostly while it pulls, every sixth trial
 * while it bootstraps from nothing (every twelfth after a new generation).
 * After each kill the files must hold whole server transactions only, where
 * the metadata says; at the end a client resumes where the metadata says and
 * ends equal to the primary. Returns each trial's outcome.
 */
export async function runCrashTrials(rig: Rig, options: CrashTrials): Promise<string[]> {
  const { token, kills, maxTrials, encryptionKey } = options;
  const rows = `INSERT INTO t(v) SELECT ${options.value ?? "randomblob(1000)"} FROM generate_series(1, ${ROWS_PER_TRANSACTION})`;
  const transaction = options.update === undefined ? rows : `BEGIN; ${rows}; ${options.update}; COMMIT`;
  const encryption = encryptionKey === undefined ? undefined : { key: encryptionKey };
  const timeline: Timeline = new Map();
  rig.server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  grow(rig, timeline, 40, transaction);
  rig.sync.checkpoint();
  const path = rig.path("replica.db");

  // Calibrate: how long applying takes once everything has arrived; kills land inside that window.
  grow(rig, timeline, 60, transaction);
  const applyTimes = [(await runChild(rig, path, token, encryptionKey, undefined)).applyMs ?? 100];
  const outcomes: string[] = [];
  for (let trial = 0; trial < maxTrials && outcomes.filter((o) => o !== "finished").length < kills; trial++) {
    if (trial % 6 === 5) {
      for (const suffix of ["", "-journal", "-replica.json"]) rmSync(`${path}${suffix}`, { force: true });
      if (trial % 12 === 11) {
        grow(rig, timeline, 10, transaction);
        rig.sync.checkpoint();
      }
    }
    grow(rig, timeline, 30, transaction);
    const window = 0.8 * (applyTimes.sort((a, b) => a - b)[Math.floor(applyTimes.length / 2)] as number);
    const phase = trial % 6 === 5 ? "bootstrap" : "pull";
    const run = await runChild(rig, path, token, encryptionKey, { phase, afterMs: Math.random() * window });
    if (run.applyMs !== undefined) applyTimes.push(run.applyMs);
    if (run.killed) options.afterKill?.();
    outcomes.push(run.killed ? await checkAfterCrash(path, timeline, encryption) : "finished");
  }
  expect(outcomes.filter((o) => o !== "finished").length).toBeGreaterThanOrEqual(kills);

  // After all that, the replica resumes where its metadata says and ends equal to the primary.
  const meta = readMeta(path) as { generation: number; frameNo: number; bootstrapping?: boolean };
  rig.server.requests.clear();
  const client = rig.replica({ timeout: 15_000, encryptionKey });
  await client.sync();
  if (!meta.bootstrapping) {
    const first = rig.server.requests.entries.find((r) => r.path.startsWith("/sync/"))?.path;
    expect(first).toBe(`/sync/${meta.generation}/${meta.frameNo + 1}/${meta.frameNo + 1025}`);
  }
  await expectInSync(client, rig.server);
  return outcomes;
}

/** Runs `transactions` transactions that each add 40 rows (`sql`), recording the row count after each. */
function grow(rig: Rig, timeline: Timeline, transactions: number, sql: string): void {
  for (let i = 0; i < transactions; i++) {
    rig.server.db.exec(sql);
    rig.sync.history.capture();
    const rows = Number((rig.server.db.prepare("SELECT count(*) FROM t").raw(true).get() as unknown[])[0]);
    timeline.set(`${rig.sync.history.generation}:${rig.sync.history.frameCount}`, rows);
  }
}

interface Run {
  killed: boolean;
  /** Milliseconds from "downloaded-pull" to "synced" when the child was not killed. */
  applyMs: number | undefined;
}

/** When to kill the child: `killAfterMs` after everything of `phase` has arrived. */
interface Kill {
  phase: "pull" | "bootstrap";
  afterMs: number;
}

/** Runs the sync child; kills it as `kill` says (never, when undefined). */
function runChild(
  rig: Rig,
  path: string,
  token: string,
  key: string | undefined,
  kill: Kill | undefined,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, path, rig.server.url, token, ...(key === undefined ? [] : [key])];
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let downloadedAt: number | undefined;
    let killed = false;
    let synced = false;
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const { event, ms } = JSON.parse(line) as { event: string; ms: number };
      if (event === "downloaded-pull") downloadedAt = ms;
      if (kill && event === `downloaded-${kill.phase}` && !killed) {
        killed = true;
        setTimeout(() => child.kill("SIGKILL"), kill.afterMs);
      }
      if (event === "synced") {
        synced = true;
        resolve({ killed: false, applyMs: downloadedAt === undefined ? undefined : ms - downloadedAt });
      }
    });
    child.on("exit", (code, signal) => {
      // A kill that lands after the sync returned did not interrupt it.
      if (signal === "SIGKILL") resolve({ killed: !synced, applyMs: undefined });
      else if (code !== 0) reject(new Error(`the sync child failed (${code ?? signal}): ${stderr}`));
      else resolve({ killed: false, applyMs: undefined });
    });
  });
}

/**
 * Checks a replica left by a killed process, below the replica layer (a bare
 * engine, no recovery of ours): SQLite's own journal recovery must leave a
 * database that passes integrity_check, holds whole server transactions only,
 * and is exactly where its metadata says (or, while a batch was being applied,
 * at one of the two ends of that batch).
 */
async function checkAfterCrash(
  path: string,
  timeline: Timeline,
  encryption: EncryptionSpec | undefined,
): Promise<string> {
  const meta = readMeta(path) as { generation: number; frameNo: number; applyingTo?: number; bootstrapping?: boolean };
  expect(meta).toBeDefined();
  if (meta.bootstrapping) return "bootstrap";
  const engine = createNodeEngine();
  // 15 s: longer than a dead process's half-written lock file counts as live (worker/node/dot-lock.ts).
  const conn = await engine.open({ storage: "file", path, busyTimeoutMs: 15_000, encryption });
  try {
    const check = await engine.execute(conn, { sql: "PRAGMA integrity_check" }, "number");
    expect(check.rows).toEqual([["ok"]]);
    const rows = Number(
      receivedRow((await engine.execute(conn, { sql: "SELECT count(*) FROM t" }, "number")).rows, 0)?.[0],
    );
    expect(rows % ROWS_PER_TRANSACTION).toBe(0);
    // Settled, the database is exactly at `frameNo`. While a batch is being applied it may also be at
    // the end of that batch, or of an earlier batch that was cut short the same way (each ends on a
    // transaction boundary at or before `applyingTo`).
    const allowed = new Set<number | undefined>();
    allowed.add(
      meta.frameNo === 0 ? baseRows(timeline, meta.generation) : timeline.get(`${meta.generation}:${meta.frameNo}`),
    );
    if (meta.applyingTo !== undefined) {
      for (const [key, count] of timeline) {
        const [generation, frame] = key.split(":").map(Number) as [number, number];
        if (generation === meta.generation && frame > meta.frameNo && frame <= meta.applyingTo) allowed.add(count);
      }
    }
    expect([...allowed]).toContain(rows);
    return meta.applyingTo === undefined ? "settled" : "mid-apply";
  } finally {
    await engine.close(conn);
  }
}

/** Rows at the start of a generation: the last count recorded in the one before. */
function baseRows(timeline: Timeline, generation: number): number | undefined {
  let last: number | undefined;
  for (const [key, rows] of timeline) if (key.startsWith(`${generation - 1}:`)) last = rows;
  return last;
}
