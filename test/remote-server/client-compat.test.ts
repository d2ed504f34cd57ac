import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, type Config, createClient, LibsqlError, type ResultSet, type Row } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { type HranaTestServer, startTestServer } from "../server/hrana-server.js";

/**
 * The test server held to the official `@libsql/client` 0.17.4: every scenario runs once
 * through its remote client (Hrana 2 JSON on /v2/pipeline) against the server, and once
 * through its local client on a `file:` database (the same native libSQL), and the
 * observations must be equal. Where sqld legitimately answers differently from a local
 * database, the scenario does not compare that field and the last test pins the
 * difference down explicitly.
 */

const TOKEN = "compat-test-token";

type Open = (config?: Partial<Config>) => Client;

interface Side {
  open: Open;
  server: HranaTestServer | undefined;
  close(): Promise<void>;
}

function localSide(): Side {
  const dir = mkdtempSync(join(tmpdir(), "hrana-compat-"));
  const clients: Client[] = [];
  return {
    open: (config = {}) => {
      const client = createClient({ url: `file:${join(dir, "local.db")}`, ...config });
      clients.push(client);
      return client;
    },
    server: undefined,
    close: async () => {
      for (const c of clients) c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function remoteSide(): Promise<Side> {
  const server = await startTestServer({ authToken: TOKEN });
  const clients: Client[] = [];
  return {
    open: (config = {}) => {
      const client = createClient({ url: server.url, authToken: TOKEN, ...config });
      clients.push(client);
      return client;
    },
    server,
    close: async () => {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

/** Runs `scenario` on a fresh side of each kind and returns both observations. */
async function both<T>(scenario: (open: Open, side: Side) => Promise<T>): Promise<{ local: T; remote: T }> {
  const local = localSide();
  const remote = await remoteSide();
  try {
    return { local: await scenario(local.open, local), remote: await scenario(remote.open, remote) };
  } finally {
    await local.close();
    await remote.close();
  }
}

function value(v: unknown): unknown {
  return v instanceof ArrayBuffer ? { blob: [...new Uint8Array(v)] } : v;
}

function rowValues(row: Row): unknown[] {
  return Array.from({ length: row.length }, (_, i) => value(row[i]));
}

/**
 * What a result is compared on. `lastInsertRowid` only for a plain INSERT and
 * `rowsAffected` only for statements that return no rows: see the last test for why.
 */
function result(rs: ResultSet, kind: "insert" | "rows" | "other" = "rows"): Record<string, unknown> {
  return {
    columns: rs.columns,
    columnTypes: rs.columnTypes,
    rows: rs.rows.map(rowValues),
    ...(kind === "rows" ? {} : { rowsAffected: rs.rowsAffected }),
    ...(kind === "insert" ? { lastInsertRowid: rs.lastInsertRowid } : {}),
  };
}

/** An error as compared: class, code, batch index; the SQLite text is checked to be in the message. */
function errorObservation(e: unknown, sqliteText?: string): Record<string, unknown> {
  if (!(e instanceof Error)) throw e;
  if (sqliteText !== undefined) expect(e.message).toContain(sqliteText);
  return {
    name: e.name,
    code: e instanceof LibsqlError ? e.code : undefined,
    statementIndex: (e as { statementIndex?: number }).statementIndex,
  };
}

/** Expects `promise` to fail and returns how. */
async function failure(promise: Promise<unknown>, sqliteText?: string): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (e) {
    return errorObservation(e, sqliteText);
  }
  throw new Error("expected a failure");
}

/** Whatever `promise` gives: its result set(s), or how it failed. */
async function outcome(promise: Promise<ResultSet | ResultSet[]>): Promise<unknown> {
  try {
    const rs = await promise;
    return Array.isArray(rs) ? rs.map((r) => result(r, "other")) : result(rs, "other");
  } catch (e) {
    return errorObservation(e);
  }
}

describe("@libsql/client remote (test server) against local (native file)", () => {
  test("DDL and inserts of every value type", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open({ intMode: "bigint" });
      const out: unknown[] = [];
      out.push(
        result(
          await c.execute("CREATE TABLE v(id INTEGER PRIMARY KEY, n, i INTEGER, f REAL, t TEXT, b BLOB)"),
          "other",
        ),
      );
      const rows: unknown[][] = [
        [null, 42n, 1.5, "plain", new Uint8Array([1, 2, 3])],
        [null, 9007199254740993n, -2.5e-10, "héllo wörld — 漢字 😀 'single' \"double\"", new Uint8Array([0, 255])],
        [null, -9223372036854775808n, 1e300, "", new Uint8Array([])],
        [null, 9223372036854775807n, 0.1 + 0.2, "\ttab\nnewline", new Uint8Array([0, 0, 0, 0, 0])],
      ];
      for (const args of rows) {
        const rs = await c.execute({ sql: "INSERT INTO v(n, i, f, t, b) VALUES (?, ?, ?, ?, ?)", args: args as never });
        out.push(result(rs, "insert"));
      }
      out.push(
        result(await c.execute("SELECT *, typeof(n), typeof(i), typeof(f), typeof(t), typeof(b) FROM v ORDER BY id")),
      );
      out.push(result(await c.execute({ sql: "SELECT ?, ?, typeof(?)", args: [1, 2n, 3] })));
      return out;
    });
    expect(remote).toEqual(local);
  });

  test("positional, numbered and named arguments", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      return [
        result(await c.execute({ sql: "SELECT ?, ?", args: [1, "two"] })),
        result(await c.execute({ sql: "SELECT ?2, ?1, ?2", args: ["a", "b"] })),
        result(await c.execute({ sql: "SELECT :a, @b, $c, :a", args: { a: 1, b: "x", c: null } })),
        result(await c.execute({ sql: "SELECT :a, $b", args: { ":a": 5, $b: 6 } })),
        result(await c.execute({ sql: "SELECT $year + 1", args: { year: 2024 } })),
        result(await c.execute({ sql: "SELECT ? = ?", args: [true, false] })),
      ];
    });
    expect(remote).toEqual(local);
  });

  test("batch in write, read and deferred modes", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      await c.execute("CREATE TABLE b(x)");
      const out: unknown[] = [];
      for (const mode of ["write", "deferred"] as const) {
        const rss = await c.batch(
          [
            { sql: "INSERT INTO b VALUES (?)", args: [mode] },
            "SELECT count(*) AS n FROM b",
            "UPDATE b SET x = x || '!'",
          ],
          mode,
        );
        out.push(
          result(rss[0] as ResultSet, "insert"),
          result(rss[1] as ResultSet),
          result(rss[2] as ResultSet, "other"),
        );
      }
      const read = await c.batch(["SELECT x FROM b ORDER BY rowid", "SELECT count(*) FROM b"], "read");
      out.push(read.map((rs) => result(rs)));
      // A write in read mode: see "read transactions" below, where the two sides differ.
      out.push(result(await c.execute("SELECT x FROM b ORDER BY rowid")));
      return out;
    });
    expect(remote).toEqual(local);
  });

  test("a failing batch is a LibsqlBatchError with the failing index, and is rolled back", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      await c.execute("CREATE TABLE fb(id INTEGER PRIMARY KEY)");
      const error = await failure(
        c.batch(["INSERT INTO fb VALUES (1)", "INSERT INTO fb VALUES (1)", "INSERT INTO fb VALUES (2)"], "write"),
        "UNIQUE constraint failed: fb.id",
      );
      return [error, result(await c.execute("SELECT count(*) FROM fb"))];
    });
    expect(remote).toEqual(local);
    expect(remote[0]).toEqual({ name: "LibsqlBatchError", code: "SQLITE_CONSTRAINT", statementIndex: 1 });
  });

  test("constraint violations report SQLITE_CONSTRAINT", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      await c.execute("CREATE TABLE c(id INTEGER PRIMARY KEY, u UNIQUE, nn NOT NULL, ck CHECK (ck > 0))");
      await c.execute("INSERT INTO c VALUES (1, 'a', 1, 1)");
      return [
        await failure(c.execute("INSERT INTO c VALUES (1, 'b', 1, 1)"), "UNIQUE constraint failed: c.id"),
        await failure(c.execute("INSERT INTO c VALUES (2, 'a', 1, 1)"), "UNIQUE constraint failed: c.u"),
        await failure(c.execute("INSERT INTO c VALUES (3, 'c', NULL, 1)"), "NOT NULL constraint failed: c.nn"),
        await failure(c.execute("INSERT INTO c VALUES (4, 'd', 1, 0)"), "CHECK constraint failed"),
        result(await c.execute("SELECT * FROM c")),
      ];
    });
    expect(remote).toEqual(local);
    expect(remote[0]).toMatchObject({ name: "LibsqlError", code: "SQLITE_CONSTRAINT" });
  });

  test("interactive transactions commit, roll back and close", async () => {
    const { local, remote } = await both(async (open, side) => {
      const c = open();
      await c.execute("CREATE TABLE tx(x)");
      const out: unknown[] = [];

      const committed = await c.transaction("write");
      out.push(result(await committed.execute("INSERT INTO tx VALUES ('kept')"), "insert"));
      out.push(result(await committed.execute("SELECT count(*) FROM tx")));
      out.push(
        (await committed.batch(["INSERT INTO tx VALUES ('kept too')", "SELECT x FROM tx"])).map((r) => result(r)),
      );
      await committed.commit();
      out.push(committed.closed);

      const rolledBack = await c.transaction("write");
      await rolledBack.execute("INSERT INTO tx VALUES ('undone')");
      out.push(result(await rolledBack.execute("SELECT count(*) FROM tx")));
      await rolledBack.rollback();
      out.push(rolledBack.closed);

      const abandoned = await c.transaction("deferred");
      await abandoned.execute("INSERT INTO tx VALUES ('abandoned')");
      abandoned.close();

      const reader = await c.transaction("read");
      out.push(result(await reader.execute("SELECT x FROM tx ORDER BY rowid")));
      reader.close();

      out.push(result(await c.execute("SELECT x FROM tx ORDER BY rowid")));
      if (side.server) {
        // The rollback really undid the write on the server's database.
        expect(side.server.db.prepare("SELECT x FROM tx ORDER BY rowid").raw(true).all()).toEqual([
          ["kept"],
          ["kept too"],
        ]);
      }
      return out;
    });
    expect(remote).toEqual(local);
    expect(remote.at(-1)).toMatchObject({ rows: [["kept"], ["kept too"]] });
  });

  test("executeMultiple, on the client and in a transaction", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      await c.executeMultiple(`
        CREATE TABLE m(a UNIQUE);
        INSERT INTO m VALUES (1); -- a comment; with a semicolon
        INSERT INTO m VALUES ('two;three');
        CREATE TRIGGER m_t AFTER INSERT ON m BEGIN SELECT CASE WHEN 1 THEN 2 END; END;
      `);
      const out: unknown[] = [result(await c.execute("SELECT a FROM m ORDER BY rowid"))];
      out.push(
        await failure(
          c.executeMultiple("INSERT INTO m VALUES (3); INSERT INTO m VALUES (1); INSERT INTO m VALUES (4);"),
          "UNIQUE constraint failed: m.a",
        ),
      );
      const tx = await c.transaction("write");
      await tx.executeMultiple("INSERT INTO m VALUES (5); INSERT INTO m VALUES (6);");
      await tx.rollback();
      out.push(result(await c.execute("SELECT a FROM m ORDER BY rowid")));
      return out;
    });
    expect(remote).toEqual(local);
  });

  test("intMode number, bigint and string", async () => {
    const { local, remote } = await both(async (open) => {
      const out: unknown[] = [];
      for (const intMode of ["number", "bigint", "string"] as const) {
        const c = open({ intMode });
        out.push(result(await c.execute("SELECT 1, -5, 9007199254740991, -9007199254740991, 2.5")));
      }
      out.push(
        result(await open({ intMode: "bigint" }).execute("SELECT 9223372036854775807, -9223372036854775807 - 1")),
      );
      out.push(
        result(await open({ intMode: "string" }).execute("SELECT 9223372036854775807, -9223372036854775807 - 1")),
      );
      out.push(await failure(open({ intMode: "number" }).execute("SELECT 9007199254740993")));
      return out;
    });
    expect(remote).toEqual(local);
    expect(remote.at(-1)).toMatchObject({ name: "RangeError" });
  });

  test("ResultSet.toJSON()", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open({ intMode: "bigint" });
      await c.execute("CREATE TABLE j(id INTEGER PRIMARY KEY, v)");
      const inserted = await c.execute({ sql: "INSERT INTO j(v) VALUES (?)", args: [new Uint8Array([104, 105])] });
      const selected = await c.execute("SELECT id, v, 1.5 AS f, 'x' AS t, NULL AS z, 12345678901234567 AS big FROM j");
      return [inserted.toJSON(), selected.toJSON()];
    });
    expect(remote).toEqual(local);
  });

  test("read transactions refuse writes on the server (as sqld does); the native local client lets them through", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open();
      await c.execute("CREATE TABLE r(x)");
      const batch = await outcome(c.batch(["SELECT 1", "INSERT INTO r VALUES ('read mode')"], "read"));
      const tx = await c.transaction("read");
      const inTx = await outcome(tx.execute("INSERT INTO r VALUES ('read-only')"));
      tx.close();
      return [batch, inTx];
    });
    expect(remote[0]).toMatchObject({ name: "LibsqlBatchError", code: "SQLITE_READONLY", statementIndex: 1 });
    expect(remote[1]).toMatchObject({ code: "SQLITE_READONLY" });
    expect(local[0]).not.toMatchObject({ code: "SQLITE_READONLY" });
    expect(local[1]).not.toMatchObject({ code: "SQLITE_READONLY" });
  });

  test("where sqld legitimately differs from a local database", async () => {
    const { local, remote } = await both(async (open) => {
      const c = open({ intMode: "bigint" });
      await c.execute("CREATE TABLE d(id INTEGER PRIMARY KEY, u UNIQUE)");
      const insertAbove2p53 = await c.execute("INSERT INTO d VALUES (9007199254740993, 'x')");
      const returning = await c.execute("INSERT INTO d(u) VALUES ('a'), ('b') RETURNING u");
      const update = await c.execute("UPDATE d SET u = u || '!' WHERE u <> 'x'");
      const create = await c.execute("CREATE TABLE d2(a)");
      const errors: Record<string, unknown>[] = [];
      for (const sql of [
        "INSERT INTO d(u) VALUES ('x')",
        "SELECT * FROM missing",
        "SELEC 1",
        "SELECT abs(-9223372036854775807 - 1)",
      ]) {
        try {
          await c.execute(sql);
        } catch (e) {
          const err = e as LibsqlError;
          errors.push({ code: err.code, extendedCode: err.extendedCode, rawCode: err.rawCode });
        }
      }
      return {
        rowidAbove2p53: insertAbove2p53.lastInsertRowid,
        returningRows: returning.rows.map(rowValues),
        returningRowsAffected: returning.rowsAffected,
        updateRowsAffected: update.rowsAffected,
        updateLastInsertRowid: update.lastInsertRowid,
        createLastInsertRowid: create.lastInsertRowid,
        errors,
      };
    });
    // Same rows and changes where both report them.
    expect(remote.returningRows).toEqual(local.returningRows);
    expect(remote.updateRowsAffected).toEqual(local.updateRowsAffected);
    // sqld reports the exact i64; the local client goes through a JS number and rounds.
    expect(remote.rowidAbove2p53).toBe(9007199254740993n);
    expect(local.rowidAbove2p53).toBe(9007199254740992n);
    // sqld counts changes for every INSERT/UPDATE/DELETE, RETURNING or not; the local
    // client reports 0 for any statement that returns rows.
    expect(remote.returningRowsAffected).toBe(2);
    expect(local.returningRowsAffected).toBe(0);
    // sqld sends last_insert_rowid only for INSERT; the local client always reports the
    // connection's last rowid (rounded through a JS number).
    expect(remote.updateLastInsertRowid).toBeUndefined();
    expect(local.updateLastInsertRowid).toBe(BigInt(Number(9007199254740995n)));
    expect(remote.createLastInsertRowid).toBeUndefined();
    expect(typeof local.createLastInsertRowid).toBe("bigint");
    // Hrana carries one code and no extended code; prepare-time errors are sqld's
    // SQL_INPUT_ERROR / SQL_PARSE_ERROR, and plain SQLITE_ERROR is SQLITE_UNKNOWN.
    expect(remote.errors).toEqual([
      { code: "SQLITE_CONSTRAINT", extendedCode: undefined, rawCode: undefined },
      { code: "SQL_INPUT_ERROR", extendedCode: undefined, rawCode: undefined },
      { code: "SQL_PARSE_ERROR", extendedCode: undefined, rawCode: undefined },
      { code: "SQLITE_UNKNOWN", extendedCode: undefined, rawCode: undefined },
    ]);
    expect(local.errors).toEqual([
      { code: "SQLITE_CONSTRAINT", extendedCode: "SQLITE_CONSTRAINT_UNIQUE", rawCode: 2067 },
      { code: "SQLITE_ERROR", extendedCode: "SQLITE_ERROR", rawCode: 1 },
      { code: "SQLITE_ERROR", extendedCode: "SQLITE_ERROR", rawCode: 1 },
      { code: "SQLITE_ERROR", extendedCode: "SQLITE_ERROR", rawCode: 1 },
    ]);
  });
});
