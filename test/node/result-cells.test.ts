import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArgValue, ResultValue } from "../../src/proto.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { bindValue } from "../../worker/sqlite/bind-args.js";
import { openHandle } from "../../worker/sqlite/open-handle.js";
import { SQLITE } from "../../worker/sqlite/raw-exports.js";
import { readRow } from "../../worker/sqlite/read-row.js";
import { probeResultRow } from "../../worker/sqlite/result-cells.js";
import { Sqlite } from "../../worker/sqlite/sqlite.js";
import { prepareOne } from "../../worker/sqlite/statement-layout.js";

/**
 * Cells read straight from the heap must equal what the C API reads, for
 * every value a column can hold and every way SQLite may hold it (stored,
 * computed, converted by affinity, zeroblobs, EXPLAIN's rows).
 */
describe("result cells read from the heap", () => {
  let sqlite: Sqlite;
  let db: number;
  let offset: number;

  beforeAll(async () => {
    sqlite = new Sqlite(await loadNodeSqlite("optimized"));
    db = openHandle(sqlite, ":memory:", null);
    probeResultRow(sqlite, db, (stmt, n) => readRow(sqlite, stmt, n, "bigint"));
    offset = sqlite.resultRowOffset;
    const exec = (sql: string) => sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
    exec("CREATE TABLE t(k INTEGER PRIMARY KEY, any_ ANY, real_ REAL, text_ TEXT, int_ INTEGER, num_ NUMERIC)");
  });

  afterAll(() => {
    sqlite.x.sqlite3_close_v2(db);
  });

  /** Every row of `sql` (after binding `args`), read directly or through the C API. */
  function rows(sql: string, args: ArgValue[], direct: boolean): ResultValue[][][] {
    sqlite.resultRowOffset = direct ? offset : -1;
    const stmt = prepareOne(sqlite, db, sql);
    try {
      for (let i = 0; i < args.length; i++) bindValue(sqlite, db, stmt, i + 1, args[i]);
      const n = sqlite.x.sqlite3_column_count(stmt);
      const out: ResultValue[][][] = [];
      while (sqlite.x.sqlite3_step(stmt) === SQLITE.ROW) {
        out.push((["number", "bigint", "string"] as const).map((mode) => readRow(sqlite, stmt, n, mode)));
      }
      return out;
    } finally {
      sqlite.x.sqlite3_finalize(stmt);
      sqlite.resultRowOffset = offset;
    }
  }

  it("is found in this build", () => {
    expect(offset).toBeGreaterThan(0);
  });

  it("gives what the C API gives, for stored, computed and converted values", () => {
    const value: fc.Arbitrary<ArgValue> = fc.oneof(
      fc.constant(null),
      fc.double({ noNaN: true }),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.constantFrom(2n ** 53n, 2n ** 53n - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, 2n ** 31n, -(2n ** 31n) - 1n),
      fc.constantFrom(-0, 0.5, 1e300, -1e-300),
      fc.string({ maxLength: 30 }),
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.constantFrom("12", " 3.5", "1e3", "abc"),
      fc.uint8Array({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(value, (v) => {
        sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode("DELETE FROM t"), 0, 0, 0));
        const insert = prepareOne(
          sqlite,
          db,
          "INSERT INTO t(any_, real_, text_, int_, num_) VALUES (?1, ?1, ?1, ?1, ?1)",
        );
        bindValue(sqlite, db, insert, 1, v);
        sqlite.x.sqlite3_step(insert);
        sqlite.x.sqlite3_finalize(insert);
        const sql =
          "SELECT any_, real_, text_, int_, num_, ?1, ?1 || '', ?1 + 0, zeroblob(3), typeof(?1), CAST(?1 AS BLOB) FROM t";
        expect(rows(sql, [v], true)).toEqual(rows(sql, [v], false));
      }),
      { numRuns: 500 },
    );
  });

  it("reads EXPLAIN's rows and a pragma's as the C API does", () => {
    for (const sql of [
      "EXPLAIN SELECT * FROM t WHERE k > 3",
      "EXPLAIN QUERY PLAN SELECT * FROM t",
      "PRAGMA table_info(t)",
    ]) {
      const direct = rows(sql, [], true);
      expect(direct.length).toBeGreaterThan(0);
      expect(direct).toEqual(rows(sql, [], false));
    }
  });
});
