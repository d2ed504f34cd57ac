/**
 * Encrypted against plain `opfs-sahpool` databases in Chromium, inside the
 * engine's worker: `npx tsx bench/encryption-browser.ts [runs]`. Uses the
 * browser tests' page (built with Vite, served on 127.0.0.1). For each format:
 * a 20k-row insert in one transaction (one SQL statement, so no worker round
 * trips), a cold full scan (a new worker, so every page crosses the VFS and is
 * decrypted) and 5000 warm point selects (one batch, sahpool's EXCLUSIVE
 * locking, so no header re-reads). Medians of `runs` (default 5), ms and ratio to plain.
 */
import type { EncryptionSpec } from "../src/proto.js";
import { launchChromium } from "../test/browser/rig/chromium.js";
import { startPreviewServer } from "../test/browser/rig/page-server.js";

const RUNS = Number(process.argv[2] ?? 5);
const KEY = "bench-key-0123456789abcdef012345";
const VARIANTS: { name: string; encryption: EncryptionSpec | undefined }[] = [
  { name: "plain", encryption: undefined },
  { name: "libsql (aes256cbc)", encryption: { key: KEY, format: "libsql" } },
  { name: "authenticated", encryption: { key: KEY, format: "authenticated" } },
];
const MEASURES = ["insert 20k", "cold full scan", "5000 point selects"] as const;

const server = await startPreviewServer();
const chromium = await launchChromium();
try {
  const page = await chromium.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => window.lib !== undefined);
  const samples = new Map<string, number[]>();
  let pages = 0;
  for (let run = -1; run < RUNS; run++) {
    for (const { name, encryption } of VARIANTS) {
      const result = await page.evaluate(
        // No named functions in here: tsx would wrap them in a helper the page does not have.
        async ({ encryption, path }) => {
          const { lib } = window;
          const request = { storage: "opfs-sahpool" as const, path, encryption };
          await lib.deleteWorkerDatabase(request);
          let t = await lib.openWorkerTransport(request);
          await t.main.execute(
            { sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL, note TEXT)" },
            "number",
          );
          let start = performance.now();
          await t.main.sequence(
            "BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) " +
              "INSERT INTO t SELECT i, 'name-' || i || '-' || hex(randomblob(4)), i * 1.5, " +
              "'note ' || i || ' ' || substr(hex(zeroblob(60)), 1, 80 + i % 40) FROM c; COMMIT;",
          );
          const insert = performance.now() - start;
          await t.close();
          // A new worker: nothing of the database in any cache.
          t = await lib.openWorkerTransport(request);
          await t.main.execute({ sql: "SELECT 1" }, "number");
          start = performance.now();
          await t.main.execute({ sql: "SELECT count(*), sum(length(name)), sum(value), max(note) FROM t" }, "number");
          const scan = performance.now() - start;
          let x = 12345;
          const steps = [];
          for (let i = 0; i < 5000; i++) {
            x = (x * 1103515245 + 12345) % 2 ** 31;
            steps.push({ stmt: { sql: "SELECT * FROM t WHERE id = ?", args: [BigInt((x % 20000) + 1)] } });
          }
          start = performance.now();
          await t.main.batch(steps, "number");
          const points = performance.now() - start;
          const pages = Number(lib.rows((await t.main.execute({ sql: "PRAGMA page_count" }, "number")).rows)[0]?.[0]);
          await t.close();
          await lib.deleteWorkerDatabase(request);
          return { "insert 20k": insert, "cold full scan": scan, "5000 point selects": points, pages };
        },
        { encryption, path: `bench/${name.split(" ")[0]}.db` },
      );
      pages = result.pages;
      if (run < 0) continue; // warm-up
      for (const measure of MEASURES) {
        const key = `${name}|${measure}`;
        samples.set(key, [...(samples.get(key) ?? []), result[measure]]);
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
  const agent = await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? "Chromium");
  console.log(`${agent}, opfs-sahpool, ${pages} pages, median of ${RUNS} (ms; ×plain)`);
  console.log(["".padEnd(22), ...VARIANTS.map((v) => v.name.padStart(26))].join(""));
  for (const measure of MEASURES) {
    const plain = median(samples.get(`plain|${measure}`) as number[]);
    const cells = VARIANTS.map((v) => {
      const ms = median(samples.get(`${v.name}|${measure}`) as number[]);
      return `${ms.toFixed(1)}${v.name === "plain" ? "" : ` (×${(ms / plain).toFixed(2)})`}`.padStart(26);
    });
    console.log([measure.padEnd(22), ...cells].join(""));
  }
} finally {
  await chromium.close();
  await server.close();
}
