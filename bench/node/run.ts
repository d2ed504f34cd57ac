/**
 * Node benchmark: libsql-web's client (in-process engine) against the raw C
 * API of the same wasm engine, in the same process, printed as ratios.
 *
 *   npm run bench            # optimised engine
 *   npm run bench -- original # the package's original wasm, for comparison
 *
 * Workloads (as in shared/docs/browser-notes.md; the sizes and ids are the
 * browser bench's, `bench/browser/workload.ts`): a 100k-row insert in one
 * transaction, 10k point selects by primary key, reading 100k rows.
 */
import { createClient } from "../../src/node.js";
import type { WasmFlavour } from "../../worker/node/load-node-sqlite.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { openHandle } from "../../worker/sqlite/open-handle.js";
import { SQLITE } from "../../worker/sqlite/raw-exports.js";
import { Sqlite } from "../../worker/sqlite/sqlite.js";
import { pointIds, ROWS } from "../browser/workload.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const flavour: WasmFlavour = process.argv[2] === "original" ? "original" : "optimized";

const ids = pointIds();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function time(body: () => unknown): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

/** The raw C API, driven directly: the baseline. */
async function rawWorkloads(sqlite: Sqlite) {
  const { x } = sqlite;
  const db = openHandle(sqlite, ":memory:", null);
  const exec = (sql: string) => sqlite.check(db, x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
  const prepare = (sql: string) => {
    const p = sqlite.encode(sql);
    sqlite.check(db, x.sqlite3_prepare_v2(db, p, sqlite.lastLength + 1, sqlite.out, 0));
    return sqlite.i32[sqlite.out >> 2] as number;
  };
  exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  const insert = await time(() => {
    exec("BEGIN");
    const stmt = prepare("INSERT INTO t VALUES (?, ?, ?)");
    for (let i = 1; i <= ROWS; i++) {
      x.sqlite3_bind_int64(stmt, 1, BigInt(i));
      const p = sqlite.encode(`name-${i}`);
      x.sqlite3_bind_text(stmt, 2, p, sqlite.lastLength, SQLITE.TRANSIENT);
      x.sqlite3_bind_double(stmt, 3, i * 1.5);
      x.sqlite3_step(stmt);
      x.sqlite3_reset(stmt);
    }
    x.sqlite3_finalize(stmt);
    exec("COMMIT");
  });
  const readRow = (stmt: number) => [
    x.sqlite3_column_double(stmt, 0),
    sqlite.decode(x.sqlite3_column_text(stmt, 1), x.sqlite3_column_bytes(stmt, 1)),
    x.sqlite3_column_double(stmt, 2),
  ];
  const select = prepare("SELECT id, name, value FROM t WHERE id = ?");
  const points = await time(() => {
    for (const id of ids) {
      x.sqlite3_bind_int64(select, 1, BigInt(id));
      if (x.sqlite3_step(select) === SQLITE.ROW) readRow(select);
      x.sqlite3_reset(select);
    }
  });
  x.sqlite3_finalize(select);
  const all = prepare("SELECT id, name, value FROM t");
  const read = await time(() => {
    const rows: unknown[][] = [];
    while (x.sqlite3_step(all) === SQLITE.ROW) rows.push(readRow(all));
    x.sqlite3_reset(all);
    if (rows.length !== ROWS) throw new Error("raw read lost rows");
  });
  x.sqlite3_finalize(all);
  x.sqlite3_close_v2(db);
  return { insert, points, read };
}

/** The same workloads through the client. */
async function clientWorkloads() {
  const client = createClient(":memory:");
  await client.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  const insertPrepared = await time(() =>
    client.transaction("write", async (tx) => {
      const stmt = await tx.prepare("INSERT INTO t VALUES (?, ?, ?)");
      for (let i = 1; i <= ROWS; i++) await stmt.run([BigInt(i), `name-${i}`, i * 1.5]);
    }),
  );
  await client.execute("DELETE FROM t");
  const insertRunMany = await time(async () => {
    const lists = new Array(ROWS);
    for (let i = 0; i < ROWS; i++) lists[i] = [BigInt(i + 1), `name-${i + 1}`, (i + 1) * 1.5];
    await (await client.prepare("INSERT INTO t VALUES (?, ?, ?)")).runMany(lists);
  });
  await client.execute("DELETE FROM t");
  const insertExecute = await time(() =>
    client.transaction("write", async (tx) => {
      for (let i = 1; i <= ROWS; i++) {
        await tx.execute({ sql: "INSERT INTO t VALUES (?, ?, ?)", args: [BigInt(i), `name-${i}`, i * 1.5] });
      }
    }),
  );
  const select = await client.prepare("SELECT id, name, value FROM t WHERE id = ?");
  const pointsPrepared = await time(async () => {
    for (const id of ids) await select.get([id]);
  });
  const pointsExecute = await time(async () => {
    for (const id of ids) await client.execute({ sql: "SELECT id, name, value FROM t WHERE id = ?", args: [id] });
  });
  const readExecute = await time(async () => {
    const rs = await client.execute("SELECT id, name, value FROM t");
    if (rs.rows.length !== ROWS) throw new Error("client read lost rows");
  });
  const readCursor = await time(async () => {
    let n = 0;
    for await (const _ of await client.cursor("SELECT id, name, value FROM t", { chunkSize: 5000 })) n++;
    if (n !== ROWS) throw new Error("cursor lost rows");
  });
  client.close();
  return { insertRunMany, insertPrepared, insertExecute, pointsPrepared, pointsExecute, readExecute, readCursor };
}

function collect(into: Record<string, number[]>, timings: Record<string, number>): void {
  for (const [name, ms] of Object.entries(timings)) {
    into[name] ??= [];
    into[name].push(ms);
  }
}

async function main() {
  const sqlite = new Sqlite(await loadNodeSqlite(flavour));
  process.env.LIBSQL_WEB_WASM = flavour === "original" ? "original" : "";
  const raw: Record<string, number[]> = {};
  const ours: Record<string, number[]> = {};
  for (let run = 0; run < RUNS; run++) {
    collect(raw, await rawWorkloads(sqlite));
    collect(ours, await clientWorkloads());
  }
  const r = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const c = Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  // The ratio is the median of per-run ratios (each against the raw figure of the same run): on a machine
  // whose load comes and goes, steadier than a ratio of medians. The spread is the lowest and highest.
  const line = (name: string, client: string, base: string, goal?: number) => {
    const ratios = (ours[client] as number[]).map((ms, i) => ms / ((raw[base] as number[])[i] as number));
    const spread = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(
      `${name.padEnd(46)} ${(c[client] as number).toFixed(1).padStart(8)} ms  raw ${(r[base] as number).toFixed(1).padStart(8)} ms  ratio ${median(ratios).toFixed(2)}x (runs ${spread})${goal ? `  (goal ≤ ${goal}x)` : ""}`,
    );
  };
  console.log(
    `libsql-web Node benchmark, ${flavour} wasm, median of ${RUNS} runs (node ${process.version}); ratios are medians of per-run ratios`,
  );
  line("insert 100k rows, prepared runMany()", "insertRunMany", "insert", 1.2);
  line("insert 100k rows, tx + prepared run()", "insertPrepared", "insert");
  line("insert 100k rows, tx.execute() per row", "insertExecute", "insert");
  line("10k point selects, prepared get()", "pointsPrepared", "points");
  line("10k point selects, client.execute()", "pointsExecute", "points");
  line("read 100k rows, client.execute()", "readExecute", "read", 1.2);
  line("read 100k rows, cursor (5000-row chunks)", "readCursor", "read");
}

await main();
