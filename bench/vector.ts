/**
 * Vector top-k over libSQL's DiskANN index versus a full scan, in one run:
 *
 *   npx tsx bench/vector.ts [vectors=10000] [dimensions=128] [queries=50] [k=10] [--native]
 *
 * Loads seeded random float32 vectors into an in-memory libsql-web database,
 * times nearest-neighbour queries without the index (`ORDER BY
 * vector_distance_cos … LIMIT k`) and with it (`vector_top_k`), prints both,
 * their ratio and the index's recall@k against the exact scan. `--native`
 * runs the same on `@libsql/client` (native libSQL) for comparison.
 */
import { createClient as createNativeClient } from "@libsql/client";
import type { Client } from "../src/api.js";
import { createClient } from "../src/node.js";
import { nearest, vector32 } from "../src/vector/index.js";
import { seededVectors } from "../test/ecosystem/seeded-vectors.js";

const numbers = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const [count = 10_000, dimensions = 128, queryCount = 50, k = 10] = numbers.map(Number);
const withNative = process.argv.includes("--native");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function time<T>(body: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await body();
  return [value, performance.now() - start];
}

async function run(name: string, client: Client): Promise<void> {
  const vectors = seededVectors(1, count, dimensions);
  const queries = seededVectors(2, queryCount, dimensions);
  await client.execute(`CREATE TABLE items (id INTEGER PRIMARY KEY, embedding F32_BLOB(${dimensions}))`);
  const [, loadMs] = await time(async () => {
    for (let start = 0; start < count; start += 1000) {
      await client.batch(
        vectors.slice(start, start + 1000).map((v, i) => ({
          sql: "INSERT INTO items VALUES (?, ?)",
          args: [start + i + 1, vector32.encode(v)],
        })),
        "write",
      );
    }
  });
  const [, indexMs] = await time(() =>
    client.execute("CREATE INDEX items_idx ON items (libsql_vector_idx(embedding))"),
  );

  const search = { table: "items", column: "embedding", k, select: ["id"] as const };
  // One warm-up query each, so that neither side pays for first-use compilation or cold pages.
  await nearest(client, { ...search, query: queries[0]! });
  await nearest(client, { ...search, index: "items_idx", query: queries[0]! });
  const scanTimes: number[] = [];
  const indexTimes: number[] = [];
  const recalls: number[] = [];
  for (const query of queries) {
    const [exact, scanMs] = await time(() => nearest(client, { ...search, query }));
    const [approximate, topKMs] = await time(() => nearest(client, { ...search, index: "items_idx", query }));
    scanTimes.push(scanMs);
    indexTimes.push(topKMs);
    const truth = new Set(exact.map((r) => r.id));
    recalls.push(approximate.filter((r) => truth.has(r.id)).length / k);
  }

  console.log(`\n${name}: ${count} vectors × ${dimensions} dimensions, ${queryCount} queries, top ${k}`);
  console.log(`  load (batches of 1000)      ${ms(loadMs)}`);
  console.log(`  CREATE INDEX (DiskANN)      ${ms(indexMs)}`);
  console.log(`  full scan     median ${ms(median(scanTimes))}   mean ${ms(mean(scanTimes))}`);
  console.log(`  vector_top_k  median ${ms(median(indexTimes))}   mean ${ms(mean(indexTimes))}`);
  console.log(`  scan / index  ${(median(scanTimes) / median(indexTimes)).toFixed(2)}× (medians)`);
  console.log(`  recall@${k}     mean ${mean(recalls).toFixed(3)}   min ${Math.min(...recalls).toFixed(2)}`);
}

const ours = createClient(":memory:");
try {
  await run("libsql-web (wasm, in-process, memory)", ours);
} finally {
  ours.close();
}
if (withNative) {
  const native = createNativeClient({ url: ":memory:" }) as unknown as Client;
  try {
    await run("@libsql/client (native libSQL, memory)", native);
  } finally {
    native.close();
  }
}
