/**
 * The cost of the node:fs VFS: the same workloads through the engine on a
 * memory database, on a `file:` database, and on a `file:` database in
 * `PRAGMA locking_mode=EXCLUSIVE` (the lock file taken once, not per
 * transaction); better-sqlite3 on a file gives the native reference.
 *
 *   npx tsx bench/node/file-vfs.ts [runs]
 *
 * - insert: 100k rows in one BEGIN … COMMIT, `engine.prepare` once and
 *   `engine.query` per row (the file case writes and fsyncs at COMMIT);
 * - point selects: 10k autocommit selects by primary key (each one takes and
 *   releases the lock: for a file, the `.lock` file is created and removed);
 * - small commits: 1k autocommit inserts (for a file, a journal and fsyncs each).
 *
 * Prints the median of `runs` (default 5) in milliseconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReceivedRows } from "../../src/proto.js";
import type { Engine } from "../../worker/engine.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";

const runs = Number(process.argv[2] ?? 5);
const ROWS = 100_000;
const SELECTS = 10_000;
const COMMITS = 1_000;

type Variant = "memory" | "file" | "file, exclusive" | "better-sqlite3 file";
type Workload = "insert" | "pointSelects" | "smallCommits";
type Timings = Record<Workload, number>;

/** Primary keys for the point selects, from a fixed xorshift sequence. */
const ids = (() => {
  let x = 12345;
  return Array.from({ length: SELECTS }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % ROWS);
  });
})();

async function throughEngine(engine: Engine<ReceivedRows>, variant: Variant, path: string): Promise<Timings> {
  const conn = await engine.open(variant === "memory" ? { storage: "memory", path: "" } : { storage: "file", path });
  const exec = (sql: string) => engine.execute(conn, { sql }, "number");
  if (variant === "file, exclusive") await exec("PRAGMA locking_mode=EXCLUSIVE");
  await exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)");

  let started = performance.now();
  const insert = await engine.prepare(conn, "INSERT INTO t(id, name, value) VALUES (?, ?, ?)");
  await exec("BEGIN");
  for (let i = 1; i <= ROWS; i++) await engine.query(conn, insert.stmtId, [i, `name-${i}`, i * 1.5], "number");
  await exec("COMMIT");
  const insertMs = performance.now() - started;

  const select = await engine.prepare(conn, "SELECT name, value FROM t WHERE id = ?");
  started = performance.now();
  for (const id of ids) await engine.query(conn, select.stmtId, [id], "number");
  const selectMs = performance.now() - started;

  started = performance.now();
  for (let i = 1; i <= COMMITS; i++) await engine.query(conn, insert.stmtId, [ROWS + i, "small", i], "number");
  const commitMs = performance.now() - started;

  await engine.close(conn);
  return { insert: insertMs, pointSelects: selectMs, smallCommits: commitMs };
}

interface NativeStatement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
}
interface NativeDb {
  exec(sql: string): unknown;
  prepare(sql: string): NativeStatement;
  close(): unknown;
}

function throughBetterSqlite3(path: string): Timings {
  const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => NativeDb;
  const db = new Database(path);
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  let started = performance.now();
  const insert = db.prepare("INSERT INTO t(id, name, value) VALUES (?, ?, ?)");
  db.exec("BEGIN");
  for (let i = 1; i <= ROWS; i++) insert.run(i, `name-${i}`, i * 1.5);
  db.exec("COMMIT");
  const insertMs = performance.now() - started;
  const select = db.prepare("SELECT name, value FROM t WHERE id = ?");
  started = performance.now();
  for (const id of ids) select.get(id);
  const selectMs = performance.now() - started;
  started = performance.now();
  for (let i = 1; i <= COMMITS; i++) insert.run(ROWS + i, "small", i);
  const commitMs = performance.now() - started;
  db.close();
  return { insert: insertMs, pointSelects: selectMs, smallCommits: commitMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const variants: Variant[] = ["memory", "file", "file, exclusive", "better-sqlite3 file"];
const dir = mkdtempSync(join(tmpdir(), "libsql-web-bench-"));
try {
  const engine = createNodeEngine();
  const results = new Map<Variant, Timings[]>(variants.map((v) => [v, []]));
  let n = 0;
  const once = async (variant: Variant) => {
    const path = join(dir, `bench-${n++}.db`);
    return variant === "better-sqlite3 file" ? throughBetterSqlite3(path) : throughEngine(engine, variant, path);
  };
  // One warm-up each, then interleaved runs, so JIT and disk state favour no variant.
  for (const variant of variants) await once(variant);
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) results.get(variant)?.push(await once(variant));
  }
  console.log(
    `median of ${runs} runs, ms: insert = ${ROWS} rows in one transaction, ` +
      `pointSelects = ${SELECTS} autocommit selects, smallCommits = ${COMMITS} autocommit inserts`,
  );
  console.table(
    variants.map((variant) => {
      const timings = results.get(variant) ?? [];
      const row: Record<string, string | number> = { variant };
      for (const key of ["insert", "pointSelects", "smallCommits"] as const) {
        row[key] = Math.round(median(timings.map((t) => t[key])));
      }
      return row;
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
