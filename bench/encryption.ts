/**
 * Encrypted against plain `file:` databases in Node, through the whole engine:
 * `npx tsx bench/encryption.ts [runs]`. For each format (plain, `libsql`,
 * `authenticated`): a 20k-row insert in one transaction (prepared statement),
 * a cold full scan (a fresh handle, so every page crosses the VFS and is
 * decrypted), and 5000 warm point selects on the open handle (NORMAL locking,
 * as `file:` databases run, where every read transaction re-reads 16 header
 * bytes; then EXCLUSIVE, where it does not). Medians of `runs` (default 5),
 * and their ratio to plain; opening an existing file (key derivation) is reported apart.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EncryptionSpec } from "../src/proto.js";
import { receivedRow } from "../src/received-rows.js";
import { createNodeEngine } from "../worker/node/node-engine.js";

const ROWS = 20_000;
const POINT_SELECTS = 5000;
const RUNS = Number(process.argv[2] ?? 5);

const VARIANTS: { name: string; encryption: EncryptionSpec | undefined }[] = [
  { name: "plain", encryption: undefined },
  { name: "libsql (aes256cbc)", encryption: { key: "bench-key-0123456789abcdef012345", format: "libsql" } },
  { name: "authenticated", encryption: { key: "bench-key-0123456789abcdef012345", format: "authenticated" } },
];

const MEASURES = [
  "open (existing file)",
  "insert 20k",
  "cold full scan",
  "5000 point selects",
  "5000 point selects, EXCLUSIVE",
] as const;
type Measure = (typeof MEASURES)[number];

const engine = createNodeEngine();

async function once(encryption: EncryptionSpec | undefined): Promise<Record<Measure, number> & { pages: number }> {
  const dir = mkdtempSync(join(tmpdir(), "libsql-web-bench-enc-"));
  const path = join(dir, "bench.db");
  try {
    const time = async (body: () => Promise<unknown>) => {
      const start = performance.now();
      await body();
      return performance.now() - start;
    };
    let conn = await engine.open({ storage: "file", path, encryption });
    await engine.execute(
      conn,
      { sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL, note TEXT)" },
      "number",
    );
    const insert = await time(async () => {
      const { stmtId } = await engine.prepare(conn, "INSERT INTO t VALUES (?, ?, ?, ?)");
      await engine.execute(conn, { sql: "BEGIN" }, "number");
      for (let i = 1; i <= ROWS; i++) {
        const note = `note ${i} ${"x".repeat(80 + (i % 40))}`;
        await engine.query(
          conn,
          stmtId,
          [BigInt(i), `name-${i}-${(i * 2654435761).toString(16)}`, i * 1.5, note],
          "number",
        );
      }
      await engine.execute(conn, { sql: "COMMIT" }, "number");
      await engine.finalize(conn, stmtId);
    });
    await engine.close(conn);
    // Opening an existing database derives its key (the authenticated format: Argon2id with the file's salt).
    const open = await time(async () => {
      conn = await engine.open({ storage: "file", path, encryption });
    });
    const scan = await time(() =>
      engine.execute(conn, { sql: "SELECT count(*), sum(length(name)), sum(value), max(note) FROM t" }, "number"),
    );
    const points = async () => {
      const { stmtId } = await engine.prepare(conn, "SELECT * FROM t WHERE id = ?");
      let x = 12345;
      const elapsed = await time(async () => {
        for (let i = 0; i < POINT_SELECTS; i++) {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          await engine.query(conn, stmtId, [BigInt((x % ROWS) + 1)], "number", 1);
        }
      });
      await engine.finalize(conn, stmtId);
      return elapsed;
    };
    const normal = await points();
    await engine.execute(conn, { sql: "PRAGMA locking_mode=EXCLUSIVE" }, "number");
    await engine.execute(conn, { sql: "SELECT 1 FROM t LIMIT 1" }, "number");
    const exclusive = await points();
    const pages = Number(
      receivedRow((await engine.execute(conn, { sql: "PRAGMA page_count" }, "number")).rows, 0)?.[0],
    );
    await engine.close(conn);
    if (statSync(path).size !== pages * 4096) throw new Error("unexpected file size");
    return {
      "open (existing file)": open,
      "insert 20k": insert,
      "cold full scan": scan,
      "5000 point selects": normal,
      "5000 point selects, EXCLUSIVE": exclusive,
      pages,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

// Warm-up: JIT and the engine's first load.
await once(undefined);
await once(VARIANTS[1]?.encryption);

// Variants take turns within each round, so that load from other processes hits them alike.
const runs = new Map<string, Record<Measure, number>[]>(VARIANTS.map((v) => [v.name, []]));
let pages = 0;
for (let r = 0; r < RUNS; r++) {
  for (const variant of VARIANTS) {
    const run = await once(variant.encryption);
    pages = run.pages;
    runs.get(variant.name)?.push(run);
  }
}
const results = new Map<string, Record<Measure, number>>(
  VARIANTS.map((v) => [
    v.name,
    Object.fromEntries(MEASURES.map((m) => [m, median((runs.get(v.name) ?? []).map((run) => run[m]))])) as Record<
      Measure,
      number
    >,
  ]),
);

const plain = results.get("plain") as Record<Measure, number>;
console.log(`Node ${process.version}, ${ROWS} rows, ${pages} pages of 4096 bytes, median of ${RUNS} runs (ms; ×plain)`);
console.log(["".padEnd(32), ...VARIANTS.map((v) => v.name.padStart(26))].join(""));
for (const measure of MEASURES) {
  const cells = VARIANTS.map((v) => {
    const ms = (results.get(v.name) as Record<Measure, number>)[measure];
    const ratio = v.name === "plain" ? "" : ` (×${(ms / plain[measure]).toFixed(2)})`;
    return `${ms.toFixed(1)}${ratio}`.padStart(26);
  });
  console.log([measure.padEnd(32), ...cells].join(""));
}
