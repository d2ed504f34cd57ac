import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import type { LibsqlError } from "../../src/errors.js";
import { nearest, vector32, vector64 } from "../../src/vector/index.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { cosineDistance, l2Distance, seededVectors } from "./seeded-vectors.js";

/** Options of the vector suite. */
export interface VectorSuiteOptions {
  /** Vectors in the index-versus-scan test (default 2500; building a DiskANN index takes ~2.5 ms a vector here). */
  count?: number;
}

const DIMENSIONS = 32;
const K = 10;
const QUERIES = 20;

async function load(client: Client, table: string, vectors: Float32Array[], index?: string, metric = "cosine") {
  await client.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, label TEXT, embedding F32_BLOB(${DIMENSIONS}))`);
  if (index)
    await client.execute(`CREATE INDEX ${index} ON ${table} (libsql_vector_idx(embedding, 'metric=${metric}'))`);
  await client.batch(
    vectors.map((v, i) => ({
      sql: `INSERT INTO ${table} (id, label, embedding) VALUES (?, ?, ?)`,
      args: [i + 1, `v${i + 1}`, vector32.encode(v)],
    })),
    "write",
  );
}

/**
 * libSQL's vector search through a client: `F32_BLOB(n)` columns,
 * `vector()`/`vector32()`, the distance functions, `libsql_vector_idx`
 * indexes with `vector_top_k`, and the `nearest` helper.
 */
export function vectorSuite(factory: ClientFactory, options: VectorSuiteOptions = {}): void {
  describe("vector search", () => {
    it("stores F32_BLOB vectors written as text or blobs, and computes distances", () =>
      withClient(factory, async (client) => {
        await client.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, embedding F32_BLOB(3))");
        await client.execute("INSERT INTO docs VALUES (1, vector('[1, 0, 0]')), (2, vector32('[0.5, 0.5, 0]'))");
        await client.execute({ sql: "INSERT INTO docs VALUES (3, ?)", args: [vector32.encode([0, 0, 1])] });
        const rs = await client.execute({
          sql: "SELECT id, embedding, vector_extract(embedding) AS text, vector_distance_cos(embedding, ?) AS cos, vector_distance_l2(embedding, vector32(?)) AS l2 FROM docs ORDER BY id",
          args: [vector32.encode([1, 1, 0]), "[1, 1, 0]"],
        });
        expect(rs.rows.map((r) => Array.from(vector32.decode(r.embedding)))).toEqual([
          [1, 0, 0],
          [0.5, 0.5, 0],
          [0, 0, 1],
        ]);
        expect(rs.rows.map((r) => r.text)).toEqual(["[1,0,0]", "[0.5,0.5,0]", "[0,0,1]"]);
        rs.rows.forEach((r, i) => {
          const v = [
            [1, 0, 0],
            [0.5, 0.5, 0],
            [0, 0, 1],
          ][i] as number[];
          expect(r.cos as number).toBeCloseTo(cosineDistance(v, [1, 1, 0]), 6);
          expect(r.l2 as number).toBeCloseTo(l2Distance(v, [1, 1, 0]), 6);
        });
      }));

    it("rejects a vector of the wrong dimension on an indexed column", () =>
      withClient(factory, async (client) => {
        await client.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, embedding F32_BLOB(3))");
        await client.execute("CREATE INDEX docs_idx ON docs (libsql_vector_idx(embedding))");
        const error = await client
          .execute({ sql: "INSERT INTO docs VALUES (1, ?)", args: [vector32.encode([1, 2])] })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        // A Hrana server has no name for a plain SQLITE_ERROR while running (sqld: SQLITE_UNKNOWN).
        expect((error as LibsqlError).code).toBe(factory.caps.extendedCodes ? "SQLITE_ERROR" : "SQLITE_UNKNOWN");
        expect((error as Error).message).toMatch(/dimensions are different: 2 != 3/);
      }));

    it("finds with the DiskANN index (vector_top_k) the same top-k as a full scan", () =>
      withClient(factory, async (client) => {
        const count = options.count ?? 2500;
        const vectors = seededVectors(7, count, DIMENSIONS);
        await load(client, "points", vectors, "points_idx");
        const queries = seededVectors(99, QUERIES, DIMENSIONS);
        const recalls: number[] = [];
        for (const query of queries) {
          const exact = vectors
            .map((v, i) => ({ id: i + 1, distance: cosineDistance(v, query) }))
            .sort((a, b) => a.distance - b.distance)
            .slice(0, K);
          const scan = await nearest(client, { table: "points", column: "embedding", query, k: K, select: ["id"] });
          const indexed = await nearest(client, {
            table: "points",
            column: "embedding",
            index: "points_idx",
            query,
            k: K,
            select: ["id", "label"],
          });
          // The scan is exact: the same rows as computing every distance here, in the same order.
          expect(scan.map((r) => r.id)).toEqual(exact.map((r) => r.id));
          for (const [i, r] of scan.entries()) expect(r.distance).toBeCloseTo(exact[i]!.distance, 5);
          // The index is approximate: every row it returns carries its true distance, nearest first.
          expect(indexed).toHaveLength(K);
          for (const r of indexed) {
            expect(r.label).toBe(`v${r.id}`);
            expect(r.distance).toBeCloseTo(cosineDistance(vectors[(r.id as number) - 1]!, query), 5);
          }
          expect(indexed.map((r) => r.distance)).toEqual([...indexed.map((r) => r.distance)].sort((a, b) => a - b));
          const truth = new Set(exact.map((r) => r.id));
          recalls.push(indexed.filter((r) => truth.has(r.id as number)).length / K);
        }
        // DiskANN is approximate; see the README ("Vector search") for why 0.9 mean recall@10.
        const mean = recalls.reduce((a, b) => a + b, 0) / recalls.length;
        expect(mean).toBeGreaterThanOrEqual(0.9);
        expect(Math.min(...recalls)).toBeGreaterThanOrEqual(0.7);
      }));

    it("searches by Euclidean distance with an l2 index, and float64 vectors by scan", () =>
      withClient(factory, async (client) => {
        const vectors = seededVectors(3, 300, DIMENSIONS);
        await load(client, '"my points"', vectors, "l2_idx", "l2");
        const query = seededVectors(4, 1, DIMENSIONS)[0]!;
        const exact = vectors.map((v, i) => ({ id: i + 1, d: l2Distance(v, query) })).sort((a, b) => a.d - b.d);
        const hits = await nearest(client, {
          table: "my points",
          column: "embedding",
          index: "l2_idx",
          metric: "l2",
          query,
          k: 3,
        });
        expect(hits.map((h) => h.rowid)).toEqual(exact.slice(0, 3).map((e) => e.id));
        for (const [i, h] of hits.entries()) expect(h.distance).toBeCloseTo(exact[i]!.d, 4);

        await client.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, embedding F64_BLOB(2))");
        await client.batch([
          { sql: "INSERT INTO wide VALUES (1, ?)", args: [vector64.encode([1, 0])] },
          { sql: "INSERT INTO wide VALUES (2, vector64('[0, 1]'))", args: [] },
        ]);
        const wide = await nearest(client, {
          table: "wide",
          column: "embedding",
          query: Float64Array.of(0.1, 0.9),
          k: 1,
          select: ["id"],
        });
        expect(wide).toEqual([{ id: 2, distance: expect.closeTo(cosineDistance([0, 1], [0.1, 0.9]), 6) }]);
        await expect(nearest(client, { table: "wide", column: "embedding", query: [1, 0], k: 0 })).rejects.toThrow(
          RangeError,
        );
      }));
  });
}
