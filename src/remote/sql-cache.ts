import type { RequestJson } from "./hrana-json.js";

/** sqld keeps at most 50 SQL texts per stream (`SQL_STORE_TOO_MANY`)… */
const MAX_STORED = 50;
/** …of at most 5000 bytes each (`SQL_STORE_TOO_LARGE`). */
const MAX_SQL_BYTES = 5000;
/** Shorter texts cost more to store (`{"type":"store_sql",…}`) than to repeat. */
const MIN_CACHED_LENGTH = 64;

/**
 * The SQL texts stored on one Hrana stream with `store_sql`, so that a statement
 * run again on the stream travels as a small `sql_id`. Storing on first use costs
 * about nothing (the text is sent once either way). A least-recently-used part
 * holds up to `capacity` texts (30, as `@libsql/client`); prepared statements
 * pin an id of their own until they close. Requests that store or evict are
 * appended to `out`, to be sent before the request that uses the id.
 */
export class SqlCache {
  readonly #capacity: number;
  readonly #lru = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;
  #pinned = 0;

  constructor(capacity = 30) {
    this.#capacity = capacity;
  }

  /** The id under which `sql` is (or is now) stored, or undefined to send it inline. */
  use(sql: string, out: RequestJson[]): number | undefined {
    const known = this.#lru.get(sql);
    if (known !== undefined) {
      this.#lru.delete(sql);
      this.#lru.set(sql, known);
      return known;
    }
    if (sql.length < MIN_CACHED_LENGTH || !fits(sql)) return undefined;
    if (this.#lru.size >= this.#capacity) {
      const [oldSql, oldId] = this.#lru.entries().next().value as [string, number];
      this.#lru.delete(oldSql);
      out.push({ type: "close_sql", sql_id: oldId });
      this.#free.push(oldId);
    }
    const id = this.#alloc();
    if (id === undefined) return undefined;
    out.push({ type: "store_sql", sql_id: id, sql });
    this.#lru.set(sql, id);
    return id;
  }

  /** Stores `sql` under an id of its own (a prepared statement), or undefined when none is left. */
  pin(sql: string, out: RequestJson[]): number | undefined {
    if (!fits(sql) || this.#pinned >= MAX_STORED - this.#capacity) return undefined;
    const id = this.#alloc();
    if (id === undefined) return undefined;
    this.#pinned++;
    out.push({ type: "store_sql", sql_id: id, sql });
    return id;
  }

  /** Releases a pinned id. */
  unpin(id: number, out: RequestJson[]): void {
    this.#pinned--;
    this.#free.push(id);
    out.push({ type: "close_sql", sql_id: id });
  }

  #alloc(): number | undefined {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    return this.#next < MAX_STORED ? this.#next++ : undefined;
  }
}

function fits(sql: string): boolean {
  // Each UTF-16 unit encodes to at most 3 UTF-8 bytes.
  if (sql.length * 3 < MAX_SQL_BYTES) return true;
  return new TextEncoder().encode(sql).length < MAX_SQL_BYTES;
}
