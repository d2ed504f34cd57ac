import type { Executor, Value } from "../api.js";
import { quoteIdentifier } from "../migrations/quote-identifier.js";
import { setOwn } from "../own-property.js";
import { type VectorInput, vector32 } from "../types/vector32.js";
import { vector64 } from "../types/vector64.js";

/** Distance functions of libSQL; an index's metric is set when it is created (`'metric=cosine'`, the default, or `'metric=l2'`). */
export type VectorMetric = "cosine" | "l2";

/** What `nearest` searches. */
export interface NearestQuery<Column extends string> {
  /** Table holding the vectors. */
  table: string;
  /** Its `F32_BLOB(n)` (or `F64_BLOB(n)`) column. */
  column: string;
  /**
   * The query vector. A `Float64Array` is sent as a float64 vector (for
   * `F64_BLOB` columns); anything else as float32.
   */
  query: VectorInput | Float64Array;
  /** How many neighbours (a positive integer). */
  k: number;
  /**
   * A `libsql_vector_idx` index on `column`: the search uses `vector_top_k`
   * (approximate, DiskANN). Without it, every row is compared (exact).
   */
  index?: string;
  /** Columns to return (default `["rowid"]`). */
  select?: readonly Column[];
  /** Distance function; must be the index's metric when an index is used (default `cosine`). */
  metric?: VectorMetric;
}

/** A neighbour: the selected columns and its `distance` to the query (smallest first). */
export type Neighbour<Column extends string> = { [C in Column]: Value } & { distance: number };

/**
 * The `k` rows whose vectors are nearest to `query`, nearest first. With
 * `index`, it asks libSQL's DiskANN index (`vector_top_k`), which is fast and
 * approximate (it may miss a true neighbour); without, a full scan ordered by
 * `vector_distance_cos` (or `_l2`), which is exact.
 *
 * @example
 * // CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, embedding F32_BLOB(384));
 * // CREATE INDEX docs_embedding ON docs (libsql_vector_idx(embedding));
 * const hits = await nearest(client, {
 *   table: "docs", column: "embedding", index: "docs_embedding",
 *   query: embedding, k: 5, select: ["id", "title"],
 * });
 * hits[0]; // { id: 7, title: "…", distance: 0.12 }
 */
export async function nearest<Column extends string = "rowid">(
  db: Pick<Executor, "execute">,
  search: NearestQuery<Column>,
): Promise<Array<Neighbour<Column>>> {
  const { table, column, index, k } = search;
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError("nearest: k must be a positive integer");
  const metric = search.metric ?? "cosine";
  if (metric !== "cosine" && metric !== "l2") throw new RangeError('nearest: metric must be "cosine" or "l2"');
  const distance = metric === "cosine" ? "vector_distance_cos" : "vector_distance_l2";
  const query = search.query instanceof Float64Array ? vector64.encode(search.query) : vector32.encode(search.query);
  const select = (search.select ?? ["rowid" as Column]).map((c) => `t.${quoteIdentifier(c)} AS ${quoteIdentifier(c)}`);
  const columns = [...select, `${distance}(t.${quoteIdentifier(column)}, :query) AS distance`].join(", ");
  const rs =
    index === undefined
      ? await db.execute({
          sql: `SELECT ${columns} FROM ${quoteIdentifier(table)} AS t ORDER BY distance LIMIT :k`,
          args: { query, k: BigInt(k) },
        })
      : await db.execute({
          sql: `SELECT ${columns} FROM vector_top_k(:index, :query, :k) AS v JOIN ${quoteIdentifier(table)} AS t ON t.rowid = v.id ORDER BY distance`,
          args: { index, query, k: BigInt(k) },
        });
  return rs.rows.map((row) => {
    const out: Record<string, Value> = {};
    for (const name of rs.columns) setOwn(out, name, row[name] as Value);
    return out as Neighbour<Column>;
  });
}
