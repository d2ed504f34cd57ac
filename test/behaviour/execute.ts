import { describe, expect, it } from "vitest";
import { type ClientFactory, withClient } from "../support/client-factory.js";

/** Statements, arguments, rows and result sets. */
export function executeSuite(factory: ClientFactory): void {
  describe("execute", () => {
    it("creates, inserts and selects with positional arguments", () =>
      withClient(factory, async (c) => {
        const created = await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)");
        expect(created.columns).toEqual([]);
        expect(created.rows).toEqual([]);
        const inserted = await c.execute({ sql: "INSERT INTO t(name, score) VALUES (?, ?)", args: ["ada", 9.5] });
        expect(inserted.rowsAffected).toBe(1);
        expect(inserted.lastInsertRowid).toBe(1n);
        await c.execute("INSERT INTO t(name, score) VALUES (?, ?)", ["grace", 8]);
        const rs = await c.execute("SELECT id, name, score FROM t ORDER BY id");
        expect(rs.columns).toEqual(["id", "name", "score"]);
        expect(rs.columnTypes).toEqual(["INTEGER", "TEXT", "REAL"]);
        expect(rs.rows.length).toBe(2);
        const row = rs.rows[1]!;
        expect(row.name).toBe("grace");
        expect(row[1]).toBe("grace");
        expect(row.length).toBe(3);
        expect(Object.keys(row)).toEqual(["id", "name", "score"]);
        expect(JSON.stringify(row)).toBe('{"id":2,"name":"grace","score":8}');
        expect(Array.from(row)).toEqual([2, "grace", 8]);
      }));

    it("binds named arguments with every prefix, with or without it in the key", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute({
          sql: "SELECT :a AS a, @b AS b, $c AS c, :d AS d",
          args: { a: 1, "@b": "two", $c: null, ":d": 4n },
        });
        expect(rs.rows[0]).toMatchObject({ a: 1, b: "two", c: null, d: 4 });
      }));

    it("binds numbered parameters", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute({ sql: "SELECT ?2 AS second, ?1 AS first", args: ["x", "y"] });
        expect(rs.rows[0]).toMatchObject({ second: "y", first: "x" });
      }));

    it("names duplicate columns by the first and keeps every value by index", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute("SELECT 1 AS a, 2 AS a, 3 AS length");
        const row = rs.rows[0]!;
        expect(row.a).toBe(1);
        expect(row[1]).toBe(2);
        expect(row.length).toBe(3);
        expect(row[2]).toBe(3);
        expect(rs.columns).toEqual(["a", "a", "length"]);
      }));

    it("serialises results with toJSON", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute("SELECT 1 AS i, 1.5 AS f, 'x' AS t, x'0102' AS b, NULL AS n");
        expect(rs.toJSON()).toEqual({
          columns: ["i", "f", "t", "b", "n"],
          columnTypes: ["", "", "", "", ""],
          rows: [[1, 1.5, "x", "AQI=", null]],
          rowsAffected: 0,
          lastInsertRowid: null,
        });
      }));

    it("reports rowsAffected for UPDATE and DELETE", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.execute("INSERT INTO t VALUES (1), (2), (3)");
        expect((await c.execute("UPDATE t SET x = x + 10 WHERE x >= 2")).rowsAffected).toBe(2);
        expect((await c.execute("DELETE FROM t")).rowsAffected).toBe(3);
      }));

    it("returns rows from INSERT … RETURNING", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
        const rs = await c.execute({ sql: "INSERT INTO t(v) VALUES (?), (?) RETURNING id, v", args: ["a", "b"] });
        expect(rs.rows.map((r) => [r.id, r.v])).toEqual([
          [1, "a"],
          [2, "b"],
        ]);
      }));

    it("runs scripts with executeMultiple", () =>
      withClient(factory, async (c) => {
        await c.executeMultiple(`
          CREATE TABLE a(x); -- a comment
          INSERT INTO a VALUES (1);
          INSERT INTO a VALUES (2);
        `);
        expect((await c.execute("SELECT sum(x) AS s FROM a")).rows[0]!.s).toBe(3);
      }));

    it("migrates with foreign keys off and back on", () =>
      withClient(factory, async (c) => {
        if (factory.caps.sharedConnection) await c.execute("PRAGMA foreign_keys=on");
        await c.executeMultiple(
          "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE ch(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));",
        );
        await c.execute("INSERT INTO p VALUES (1)");
        await c.execute("INSERT INTO ch VALUES (1, 1)");
        // Dropping a referenced table fails with foreign keys on; migrate() turns them off.
        const results = await c.migrate([
          "CREATE TABLE p2(id INTEGER PRIMARY KEY)",
          "INSERT INTO p2 SELECT id FROM p",
          "DROP TABLE p",
          "ALTER TABLE p2 RENAME TO p",
        ]);
        expect(results.length).toBe(4);
        expect(results[1]!.rowsAffected).toBe(1);
        expect((await c.execute("SELECT count(*) AS n FROM p")).rows[0]!.n).toBe(1);
        if (factory.caps.sharedConnection) expect((await c.execute("PRAGMA foreign_keys")).rows[0]![0]).toBe(1);
      }));
  });
}
