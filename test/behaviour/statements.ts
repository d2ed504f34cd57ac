import { describe, expect, it } from "vitest";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { expectLibsqlError } from "../support/expect-error.js";

/** Prepared statements, cursors and metadata. */
export function statementSuite(factory: ClientFactory): void {
  describe("prepared statements", () => {
    it("describes parameters and columns", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB)");
        const st = await c.prepare(
          "SELECT id, name, data, 1 + 1 AS two FROM t WHERE id > :min AND name <> ? AND id < ?5",
        );
        expect(st.parameterCount).toBe(5);
        expect(st.parameterNames).toEqual([":min", null, null, null, "?5"]);
        expect(st.columns).toEqual(["id", "name", "data", "two"]);
        expect(st.columnTypes).toEqual(["INTEGER", "TEXT", "BLOB", ""]);
        expect(st.readonly).toBe(true);
        const insert = await c.prepare("INSERT INTO t(name) VALUES (?)");
        expect(insert.readonly).toBe(false);
        expect(insert.columns).toEqual([]);
      }));

    it("runs with run, all, get and iterate", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)");
        const insert = await c.prepare("INSERT INTO t(name) VALUES (?)");
        for (const name of ["a", "b", "c"]) {
          const rs = await insert.run([name]);
          expect(rs.rowsAffected).toBe(1);
        }
        const select = await c.prepare("SELECT name FROM t WHERE id >= :from ORDER BY id");
        expect((await select.all({ from: 2 })).map((r) => r.name)).toEqual(["b", "c"]);
        expect((await select.get({ from: 3 }))?.name).toBe("c");
        expect(await select.get({ from: 9 })).toBeUndefined();
        const names: unknown[] = [];
        for await (const row of select.iterate({ from: 1 }, { chunkSize: 2 })) names.push(row.name);
        expect(names).toEqual(["a", "b", "c"]);
        await select.close();
        expect(select.closed).toBe(true);
        await expectLibsqlError(select.all({ from: 1 }), "STATEMENT_CLOSED");
        await select.close();
      }));

    it("runs many argument lists at once, atomically", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
        const insert = await c.prepare("INSERT INTO t(name) VALUES (?)");
        const names = Array.from({ length: 300 }, (_, i) => [`name-${i}`]);
        const rs = await insert.runMany(names);
        expect(rs.rowsAffected).toBe(300);
        expect(rs.lastInsertRowid).toBe(300n);
        expect(rs.rows).toEqual([]);
        const named = await c.prepare("INSERT INTO t(name) VALUES (:name)");
        expect((await named.runMany([{ name: "x" }, { ":name": "y" }])).rowsAffected).toBe(2);
        await expectLibsqlError(insert.runMany([["fresh-1"], ["fresh-2"], ["name-7"], ["fresh-3"]]), {
          code: "SQLITE_CONSTRAINT",
          statementIndex: 2,
        });
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(302);
        expect((await insert.runMany([])).rowsAffected).toBe(0);
      }));

    it("converts runMany's values as execute does, and refuses the same ones before running any list", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE v(a, b, c)");
        const insert = await c.prepare("INSERT INTO v VALUES (?, ?, ?)");
        const lists = [
          [true, new Date(5000), new Uint8Array([1, 2]).buffer],
          [false, 1.5, null],
        ];
        expect((await insert.runMany(lists)).rowsAffected).toBe(2);
        const rs = await c.execute("SELECT a, typeof(a) AS ta, b, typeof(c) AS tc FROM v ORDER BY rowid");
        expect(rs.rows.map((row) => [row.a, row.ta, row.b, row.tc])).toEqual([
          [1, "integer", 5000, "blob"],
          [0, "integer", 1.5, "null"],
        ]);
        await expect(
          insert.runMany([
            ["ok", 1, 2],
            ["ok", undefined, 2],
          ] as never),
        ).rejects.toThrow(TypeError);
        await expect(insert.runMany([["ok", Number.NaN, 2]])).rejects.toThrow(RangeError);
        await expectLibsqlError(insert.runMany([["ok", {}, 2]] as never), "ARGS_INVALID");
        expect((await c.execute("SELECT count(*) AS n FROM v")).rows[0]!.n).toBe(2);
      }));

    it("runs many long lists of mixed values, and names the failing list among hundreds", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE m(id INTEGER PRIMARY KEY, t TEXT UNIQUE, r REAL, b BLOB, n INTEGER)");
        const insert = await c.prepare("INSERT INTO m VALUES (?, ?, ?, ?, ?)");
        const row = (i: number) => [
          BigInt(i),
          i % 7 === 0 ? null : `text-${i}-é`,
          i + 0.5,
          new Uint8Array([i & 0xff, 1]),
          i % 3 === 0 ? 2n ** 62n + BigInt(i) : i,
        ];
        const lists = Array.from({ length: 400 }, (_, i) => row(i + 1));
        expect((await insert.runMany(lists)).rowsAffected).toBe(400);
        const back = await c.execute({
          sql: "SELECT id, t, r, b, CAST(n AS TEXT) AS n FROM m WHERE id IN (7, 9, 400) ORDER BY id",
          args: [],
        });
        expect(back.rows.map((r) => [r.id, r.t, r.r, [...new Uint8Array(r.b as ArrayBuffer)], r.n])).toEqual([
          [7, null, 7.5, [7, 1], "7"],
          [9, "text-9-é", 9.5, [9, 1], String(2n ** 62n + 9n)],
          [400, "text-400-é", 400.5, [144, 1], "400"],
        ]);
        const clashes = Array.from({ length: 300 }, (_, i) => [BigInt(1000 + i), `new-${i}`, 0, null, 0]);
        clashes[250] = [5000n, "text-10-é", 0, null, 0];
        await expectLibsqlError(insert.runMany(clashes), { code: "SQLITE_CONSTRAINT", statementIndex: 250 });
        const tooShort = Array.from({ length: 100 }, (_, i) => [BigInt(2000 + i), `short-${i}`]);
        await expectLibsqlError(insert.runMany(tooShort), { code: "ARGS_INVALID", statementIndex: 0 });
        expect((await c.execute("SELECT count(*) AS n FROM m")).rows[0]!.n).toBe(400);
      }));

    it("runs many thousands of lists, atomically even when a late one fails, two calls at once", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE big(x INTEGER UNIQUE, label TEXT)");
        const insert = await c.prepare("INSERT INTO big VALUES (?, ?)");
        const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => [from + i, `label-${from + i}`]);
        const [a, b] = await Promise.all([insert.runMany(range(0, 9_000)), insert.runMany(range(9_000, 8_300))]);
        expect([a.rowsAffected, b.rowsAffected]).toEqual([9_000, 8_300]);
        // Lists go to the engine's worker in parts of 8192: this one fails in the second part.
        const late = range(100_000, 8_400);
        late[8_300] = [5, "clash"];
        await expectLibsqlError(insert.runMany(late), { code: "SQLITE_CONSTRAINT", statementIndex: 8_300 });
        const rs = await c.execute("SELECT count(*) AS n, sum(x) AS s FROM big");
        expect(rs.rows[0]!.n).toBe(17_300);
        expect(rs.rows[0]!.s).toBe((17_300 * 17_299) / 2);
      }));

    it("runs many lists from any iterable, taken as they are sent, atomically when taking them fails", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE g(x INTEGER UNIQUE, label TEXT)");
        const insert = await c.prepare("INSERT INTO g VALUES (?, ?)");
        const broken = new Error("the source broke");
        /** Lists `from`..`from + n - 1`; at index `at` of them, `odd` instead (a list, or an error to throw). */
        function* rows(from: number, n: number, at = -1, odd?: unknown[] | Error): Generator<unknown[]> {
          for (let i = 0; i < n; i++) {
            if (i !== at) yield [from + i, `label-${from + i}`];
            else if (odd instanceof Error) throw odd;
            else yield odd as unknown[];
          }
        }
        const count = async () => (await c.execute("SELECT count(*) AS n FROM g")).rows[0]!.n;
        // Beyond one part (8192 lists), and exactly two parts: the end shows only once the generator is done.
        expect((await insert.runMany(rows(0, 10_000) as never)).rowsAffected).toBe(10_000);
        expect((await insert.runMany(rows(10_000, 16_384) as never)).rowsAffected).toBe(16_384);
        expect((await insert.runMany(rows(30_000, 0) as never)).rowsAffected).toBe(0);
        expect((await insert.runMany(new Set([[-1, "set"]]))).lastInsertRowid).toBe(26_385n);
        expect(await count()).toBe(26_385);
        // The generator throws in its third part: what was sent is undone, and its error comes back as it was.
        await expect(insert.runMany(rows(40_000, 20_000, 17_000, broken) as never)).rejects.toBe(broken);
        // A value that cannot be bound, in the second part: the same error as in an array, and nothing kept.
        await expect(insert.runMany(rows(40_000, 9_000, 8_500, [1, undefined]) as never)).rejects.toThrow(TypeError);
        // A run that fails is named in the whole; a source that breaks later still wins, as if taken whole first.
        await expectLibsqlError(insert.runMany(rows(40_000, 20_000, 5, [7, "clash"]) as never), {
          code: "SQLITE_CONSTRAINT",
          statementIndex: 5,
        });
        const clashThenBreak = function* () {
          yield* rows(40_000, 10, 5, [7, "clash"]);
          yield* rows(40_100, 20_000, 17_000, broken);
        };
        await expect(insert.runMany(clashThenBreak() as never)).rejects.toBe(broken);
        expect(await count()).toBe(26_385);
        // The statement and the connection serve on.
        expect((await insert.runMany(rows(70_000, 3) as never)).rowsAffected).toBe(3);
        expect(await count()).toBe(26_388);
        await expect(insert.runMany("not lists" as never)).rejects.toThrow(TypeError);
      }));

    it("runs many inside a transaction, undoing only its own runs on failure", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x INTEGER UNIQUE)");
        await c.transaction("write", async (tx) => {
          const insert = await tx.prepare("INSERT INTO t VALUES (?)");
          await insert.runMany([[1], [2]]);
          await expectLibsqlError(insert.runMany([[3], [1]]), { code: "SQLITE_CONSTRAINT", statementIndex: 1 });
          await insert.runMany([[4]]);
        });
        const rs = await c.execute("SELECT group_concat(x, ',') AS xs FROM (SELECT x FROM t ORDER BY x)");
        expect(rs.rows[0]!.xs).toBe("1,2,4");
      }));

    it("is closed with the client", async () => {
      const c = await factory.create();
      const st = await c.prepare("SELECT 1");
      c.close();
      await expectLibsqlError(st.all(), "CLIENT_CLOSED");
    });

    it("prepares inside a transaction, seeing its writes", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.transaction("write", async (tx) => {
          const insert = await tx.prepare("INSERT INTO t VALUES (?)");
          for (let i = 0; i < 10; i++) await insert.run([i]);
          expect((await (await tx.prepare("SELECT count(*) AS n FROM t")).get())!.n).toBe(10);
        });
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(10);
      }));
  });

  describe("cursors", () => {
    it("streams many rows in chunks", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(i INTEGER)");
        await c.execute(
          "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) INSERT INTO t SELECT i FROM s",
        );
        const cursor = await c.cursor("SELECT i FROM t ORDER BY i", { chunkSize: 300 });
        let sum = 0;
        let n = 0;
        for await (const row of cursor) {
          sum += row.i as number;
          n++;
        }
        expect(n).toBe(5000);
        expect(sum).toBe((5000 * 5001) / 2);
        expect(cursor.columns).toEqual(["i"]);
        expect(cursor.closed).toBe(true);
      }));

    it("closes on break and leaves the connection usable", () =>
      withClient(factory, async (c) => {
        const cursor = await c.cursor({
          sql: "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s",
          args: [100000],
        });
        for await (const row of cursor) if ((row.i as number) >= 10) break;
        expect(cursor.closed).toBe(true);
        expect((await c.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      }));

    it("raises the statement's error", () =>
      withClient(factory, async (c) => {
        const error = await (async () => {
          const cursor = await c.cursor("SELECT * FROM missing_table");
          for await (const _ of cursor) {
            // no rows expected
          }
        })().catch((e: unknown) => e);
        expect(String((error as Error).message)).toMatch(/missing_table/);
      }));

    it("reads inside a transaction", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.transaction("write", async (tx) => {
          await tx.execute("INSERT INTO t VALUES (1), (2)");
          const seen: unknown[] = [];
          for await (const row of await tx.cursor("SELECT x FROM t ORDER BY x")) seen.push(row.x);
          expect(seen).toEqual([1, 2]);
        });
      }));
  });

  describe("metadata", () => {
    it.runIf(factory.caps.sharedConnection)("reports last insert rowid, changes, total changes and autocommit", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)");
        await c.execute("INSERT INTO t(x) VALUES (1), (2), (3)");
        const before = await c.metadata();
        expect(before.lastInsertRowid).toBe(3n);
        expect(before.changes).toBe(3);
        expect(before.autocommit).toBe(true);
        await c.execute("UPDATE t SET x = 0");
        const after = await c.metadata();
        expect(after.changes).toBe(3);
        expect(after.totalChanges - before.totalChanges).toBe(3);
        await c.transaction("write", async (tx) => {
          await tx.execute("SELECT 1");
          expect((await tx.metadata()).autocommit).toBe(false);
        });
      }),
    );
  });
}
