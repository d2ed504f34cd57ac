/**
 * Differential tests: the same scenarios through the official `@libsql/client`
 * (native libSQL, in-process) and through libsql-web's in-process engine, with
 * results, error codes and batch indexes required to be equal. Where the two
 * must differ, the scenario says why and checks both sides of the difference.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient as createNativeClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import type { Client, IntMode } from "../../src/api.js";
import { createClient } from "../../src/node.js";

/** The part of the API both clients share. */
interface SharedTransaction {
  execute: Client["execute"];
  commit(): Promise<void>;
  rollback(): Promise<void>;
  closed: boolean;
}
interface AnyClient {
  execute: Client["execute"];
  batch: Client["batch"];
  executeMultiple(sql: string): Promise<void>;
  transaction(mode: "write" | "read" | "deferred"): Promise<SharedTransaction>;
  close(): void;
}

const dir = mkdtempSync(join(tmpdir(), "libsql-web-diff-"));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Both clients on fresh databases (a native file, our memory database). */
function pair(intMode: IntMode = "number"): { native: AnyClient; ours: AnyClient } {
  const native = createNativeClient({ url: `file:${join(dir, `native-${++counter}.db`)}`, intMode });
  const ours = createClient({ url: ":memory:", intMode });
  return { native, ours };
}

/** Outcome of a call as comparable data: a result's JSON, or an error's class and codes. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await run();
    return { ok: toComparable(value) };
  } catch (e) {
    const error = e as {
      name?: string;
      code?: string;
      extendedCode?: string;
      rawCode?: number;
      statementIndex?: number;
    };
    return {
      error: {
        class: e instanceof RangeError ? "RangeError" : e instanceof TypeError ? "TypeError" : error.name,
        code: error.code,
        extendedCode: error.extendedCode,
        rawCode: error.rawCode,
        statementIndex: error.statementIndex,
      },
    };
  }
}

function toComparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComparable);
  if (value && typeof value === "object" && "toJSON" in value) return (value as { toJSON(): unknown }).toJSON();
  return value;
}

/** Runs `scenario` on both clients and requires equal outcomes, step by step. */
async function same(scenario: (c: AnyClient) => Array<() => Promise<unknown>>, intMode: IntMode = "number") {
  const { native, ours } = pair(intMode);
  try {
    const a = scenario(native);
    const b = scenario(ours);
    for (let i = 0; i < a.length; i++) {
      const [left, right] = [await outcome(a[i]!), await outcome(b[i]!)];
      expect(right, `step ${i}`).toEqual(left);
    }
  } finally {
    native.close();
    ours.close();
  }
}

describe("libsql-web and @libsql/client give the same results", () => {
  it("DDL, inserts of every value type, selects", () =>
    same((c) => [
      () => c.execute("CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n, d INTEGER)"),
      () =>
        c.execute({
          sql: "INSERT INTO v(i, f, t, b, n, d) VALUES (?, ?, ?, ?, ?, ?)",
          args: [123n, 4.5, "tëxt ✓", new Uint8Array([1, 2, 3]), null, new Date(86_400_000)],
        }),
      () => c.execute({ sql: "INSERT INTO v(i, f, t) VALUES (?, ?, ?)", args: [-7, 0.1, ""] }),
      () => c.execute({ sql: "INSERT INTO v(i, b) VALUES (?, ?)", args: [true, new ArrayBuffer(2)] }),
      () => c.execute("SELECT * FROM v ORDER BY id"),
      () => c.execute("SELECT typeof(i), typeof(f), typeof(t), typeof(b), typeof(n) FROM v ORDER BY id"),
      () => c.execute("UPDATE v SET t = 'x' WHERE id > 1"),
      () => c.execute("DELETE FROM v WHERE id = 3"),
      () => c.execute("SELECT count(*) AS n, sum(i) AS s, avg(f) AS a FROM v"),
    ]));

  it("named and positional arguments", () =>
    same((c) => [
      () => c.execute({ sql: "SELECT ? AS a, ? AS b", args: ["x", 2n] }),
      () => c.execute({ sql: "SELECT :a AS a, @b AS b, $c AS c", args: { a: 1, b: "two", c: null } }),
      () => c.execute({ sql: "SELECT :a AS a, @b AS b, $c AS c", args: { ":a": 1, "@b": "two", $c: 3.5 } }),
      () => c.execute({ sql: "SELECT ?2 AS two, ?1 AS one", args: ["one", "two"] }),
    ]));

  for (const mode of ["write", "read", "deferred"] as const) {
    it(`batch in ${mode} mode`, () =>
      same((c) => [
        () => c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"),
        () => c.execute("INSERT INTO t(v) VALUES ('seed')"),
        () =>
          c.batch(
            mode === "read"
              ? ["SELECT * FROM t", { sql: "SELECT count(*) FROM t WHERE v = ?", args: ["seed"] }]
              : [
                  "INSERT INTO t(v) VALUES ('a')",
                  ["INSERT INTO t(v) VALUES (?)", ["b"]],
                  "SELECT v FROM t ORDER BY id",
                ],
            mode,
          ),
        () => c.execute("SELECT count(*) AS n FROM t"),
      ]));
  }

  it("a failing batch rolls back and names the statement", () =>
    same((c) => [
      () => c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, u TEXT UNIQUE)"),
      () =>
        c.batch(
          ["INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')", "INSERT INTO t VALUES (3, 'a')"],
          "write",
        ),
      () => c.batch(["INSERT INTO t VALUES (1, 'a')", "SELECT * FROM missing"], "write"),
      () => c.execute("SELECT count(*) AS n FROM t"),
    ]));

  it("constraint violations", () =>
    same((c) => [
      () =>
        c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL, ck INTEGER CHECK (ck > 0))"),
      () => c.execute("INSERT INTO t VALUES (1, 'a', 'x', 1)"),
      () => c.execute("INSERT INTO t VALUES (1, 'b', 'x', 1)"),
      () => c.execute("INSERT INTO t VALUES (2, 'a', 'x', 1)"),
      () => c.execute("INSERT INTO t VALUES (2, 'b', NULL, 1)"),
      () => c.execute("INSERT INTO t VALUES (2, 'b', 'x', -1)"),
      () => c.execute("SELEC 1"),
      () => c.execute("SELECT * FROM missing"),
    ]));

  it("interactive transactions with commit and rollback", () =>
    same((c) => [
      () => c.execute("CREATE TABLE t(x)"),
      async () => {
        const tx = await c.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        const inside = await tx.execute("SELECT count(*) AS n FROM t");
        await tx.rollback();
        return [inside, tx.closed];
      },
      async () => {
        const tx = await c.transaction("write");
        const r = await tx.execute("INSERT INTO t VALUES (2)");
        await tx.commit();
        return [r, tx.closed];
      },
      async () => {
        const tx = await c.transaction("write");
        await tx.commit();
        return tx.execute("SELECT 1");
      },
      () => c.execute("SELECT x FROM t"),
    ]));

  it("executeMultiple", () =>
    same((c) => [
      () => c.executeMultiple("CREATE TABLE a(x); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);"),
      () => c.execute("SELECT sum(x) AS s FROM a"),
      () => c.executeMultiple("INSERT INTO a VALUES (3); INSERT INTO nope VALUES (1);"),
      () => c.execute("SELECT sum(x) AS s FROM a"),
    ]));

  for (const intMode of ["number", "bigint", "string"] as const) {
    it(`intMode ${intMode}`, () =>
      same(
        (c) => [
          () => c.execute("SELECT 1 AS one, 1.5 AS f, -42 AS neg, 'x' AS t, NULL AS n"),
          () => c.execute("SELECT 9223372036854775807 AS max"),
          () => c.execute({ sql: "SELECT ? AS big", args: [2n ** 62n] }),
        ],
        intMode,
      ));
  }
});

describe("where libsql-web and @libsql/client differ on purpose", () => {
  it("too many arguments: native ignores the extra ones, we refuse with ARGS_INVALID (as sqld does)", async () => {
    const { native, ours } = pair();
    try {
      expect((await native.execute({ sql: "SELECT ? AS a", args: [1, 2] })).rows[0]!.a).toBe(1);
      await expect(ours.execute({ sql: "SELECT ? AS a", args: [1, 2] })).rejects.toMatchObject({
        code: "ARGS_INVALID",
      });
    } finally {
      native.close();
      ours.close();
    }
  });

  it("several statements in execute: native runs the first only, we refuse with SQL_MANY_STATEMENTS", async () => {
    const { native, ours } = pair();
    try {
      expect((await native.execute("SELECT 1 AS a; SELECT 2 AS a")).rows[0]!.a).toBe(1);
      await expect(ours.execute("SELECT 1 AS a; SELECT 2 AS a")).rejects.toMatchObject({ code: "SQL_MANY_STATEMENTS" });
    } finally {
      native.close();
      ours.close();
    }
  });

  it("NUL inside text: native cuts the string at the NUL, we keep it", async () => {
    const { native, ours } = pair();
    try {
      const sql = "SELECT 'a' || char(0) || 'b' AS s";
      expect((await native.execute(sql)).rows[0]!.s).toBe("a");
      expect((await ours.execute(sql)).rows[0]!.s).toBe("a\u0000b");
    } finally {
      native.close();
      ours.close();
    }
  });

  it("booleans: native binds them as REAL, we bind INTEGER (as @libsql/client does over HTTP)", async () => {
    const { native, ours } = pair();
    try {
      const stmt = { sql: "SELECT typeof(?) AS t", args: [true] };
      expect((await native.execute(stmt)).rows[0]!.t).toBe("real");
      expect((await ours.execute(stmt)).rows[0]!.t).toBe("integer");
    } finally {
      native.close();
      ours.close();
    }
  });

  it("read transactions: native lets a write through, we enforce read-only", async () => {
    const { native, ours } = pair();
    try {
      for (const c of [native, ours]) await c.execute("CREATE TABLE t(x)");
      const nativeTx = await native.transaction("read");
      await nativeTx.execute("INSERT INTO t VALUES (1)");
      await nativeTx.rollback();
      const tx = await ours.transaction("read");
      await expect(tx.execute("INSERT INTO t VALUES (1)")).rejects.toMatchObject({ code: "SQLITE_READONLY" });
      await tx.rollback();
    } finally {
      native.close();
      ours.close();
    }
  });
});
