import { describe, expect, it } from "vitest";
import type { Client, InValue } from "../../src/api.js";
import { LibsqlError } from "../../src/errors.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { expectLibsqlError } from "../support/expect-error.js";

async function stillServes(c: Client): Promise<void> {
  expect((await c.execute("SELECT 40 + 2 AS answer")).rows[0]!.answer).toBe(42);
}

/** Bad input: each a coded error, with the database still serving afterwards. */
export function errorSuite(factory: ClientFactory): void {
  describe("errors and bad input", () => {
    it("gives coded errors for syntax errors and unknown tables", () =>
      withClient(factory, async (c) => {
        const syntax = await c.execute("SELEC 1").catch((e: unknown) => e);
        expect(syntax).toBeInstanceOf(LibsqlError);
        expect((syntax as LibsqlError).message).toMatch(/syntax error/);
        const missing = await c.execute("SELECT * FROM nowhere").catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(LibsqlError);
        expect((missing as LibsqlError).message).toMatch(/no such table: nowhere/);
        if (factory.caps.localEngine) {
          expect(syntax).toMatchObject({ code: "SQLITE_ERROR", extendedCode: "SQLITE_ERROR", rawCode: 1 });
          expect(missing).toMatchObject({ code: "SQLITE_ERROR", extendedCode: "SQLITE_ERROR", rawCode: 1 });
        }
        await stillServes(c);
      }));

    it("gives constraint violations with their extended codes", () =>
      withClient(factory, async (c) => {
        await c.execute("PRAGMA foreign_keys=on");
        await c.executeMultiple(`
          CREATE TABLE p(id INTEGER PRIMARY KEY);
          CREATE TABLE t(id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL, ck INTEGER CHECK (ck > 0),
                         p INTEGER REFERENCES p(id));
          INSERT INTO p VALUES (1);
          INSERT INTO t VALUES (1, 'a', 'x', 1, 1);
        `);
        const cases: Array<[string, string, number]> = [
          ["INSERT INTO t VALUES (1, 'b', 'x', 1, 1)", "SQLITE_CONSTRAINT_PRIMARYKEY", 1555],
          ["INSERT INTO t VALUES (2, 'a', 'x', 1, 1)", "SQLITE_CONSTRAINT_UNIQUE", 2067],
          ["INSERT INTO t VALUES (2, 'b', NULL, 1, 1)", "SQLITE_CONSTRAINT_NOTNULL", 1299],
          ["INSERT INTO t VALUES (2, 'b', 'x', 0, 1)", "SQLITE_CONSTRAINT_CHECK", 275],
        ];
        if (factory.caps.sharedConnection) {
          cases.push(["INSERT INTO t VALUES (2, 'b', 'x', 1, 99)", "SQLITE_CONSTRAINT_FOREIGNKEY", 787]);
        }
        for (const [sql, extendedCode, rawCode] of cases) {
          await expectLibsqlError(
            c.execute(sql),
            factory.caps.extendedCodes ? { code: "SQLITE_CONSTRAINT", extendedCode, rawCode } : "SQLITE_CONSTRAINT",
          );
        }
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
      }));

    it("refuses too many and too few arguments", () =>
      withClient(factory, async (c) => {
        await expectLibsqlError(c.execute({ sql: "SELECT ?", args: [1, 2] }), "ARGS_INVALID");
        await expectLibsqlError(c.execute({ sql: "SELECT ?, ?", args: [1] }), "ARGS_INVALID");
        await expectLibsqlError(c.execute({ sql: "SELECT :a, :b", args: { a: 1 } }), "ARGS_INVALID");
        await expectLibsqlError(c.execute("SELECT ?"), "ARGS_INVALID");
        await stillServes(c);
      }));

    it("refuses unsupported argument types", () =>
      withClient(factory, async (c) => {
        await expectLibsqlError(
          c.execute({ sql: "SELECT ?", args: [{ not: "a value" } as unknown as InValue] }),
          "ARGS_INVALID",
        );
        await expectLibsqlError(
          c.execute({ sql: "SELECT ?", args: [Symbol("s") as unknown as InValue] }),
          "ARGS_INVALID",
        );
        await expect(c.execute({ sql: "SELECT ?", args: [undefined as unknown as InValue] })).rejects.toThrow(
          TypeError,
        );
        await stillServes(c);
      }));

    it("refuses several statements in one execute, and an empty one", () =>
      withClient(factory, async (c) => {
        await expectLibsqlError(c.execute("SELECT 1; SELECT 2"), "SQL_MANY_STATEMENTS");
        await expectLibsqlError(c.execute("   -- only a comment"), "SQL_NO_STATEMENT");
        await stillServes(c);
      }));

    it("stores and reads back a large blob", () =>
      withClient(factory, async (c) => {
        const size = factory.caps.localEngine ? 50 * 1024 * 1024 : 2 * 1024 * 1024;
        const blob = new Uint8Array(size);
        for (let i = 0; i < size; i += 4096) blob[i] = i & 0xff;
        blob[size - 1] = 7;
        await c.execute("CREATE TABLE b(data BLOB)");
        await c.execute({ sql: "INSERT INTO b VALUES (?)", args: [blob] });
        const rs = await c.execute("SELECT data, length(data) AS n FROM b");
        expect(rs.rows[0]!.n).toBe(size);
        const back = new Uint8Array(rs.rows[0]!.data as ArrayBuffer);
        expect(back[4096]).toBe(0);
        expect(back[8192 * 3]).toBe((8192 * 3) & 0xff);
        expect(back[size - 1]).toBe(7);
        await stillServes(c);
      }));

    // SQLITE_MAX_LENGTH is a property of our engine's build; servers have their own limits.
    it.runIf(factory.caps.localEngine)("refuses a blob beyond SQLite's limit with SQLITE_TOOBIG", () =>
      withClient(factory, async (c) => {
        await expectLibsqlError(c.execute("SELECT zeroblob(1500000000)"), "SQLITE_TOOBIG");
        await stillServes(c);
      }),
    );
  });

  describe("lifecycle", () => {
    it("closes idempotently and refuses use after close with the reason", async () => {
      const c = await factory.create();
      await c.execute("SELECT 1");
      c.close();
      c.close();
      expect(c.closed).toBe(true);
      const error = await expectLibsqlError(c.execute("SELECT 1"), "CLIENT_CLOSED");
      expect(String((error.cause as Error)?.message)).toMatch(/closed/);
      await expectLibsqlError(c.batch(["SELECT 1"]), "CLIENT_CLOSED");
      await expectLibsqlError(c.transaction(), "CLIENT_CLOSED");
    });

    it("closes with await using", async () => {
      const c = await factory.create();
      {
        await using client = c;
        await client.execute("SELECT 1");
      }
      expect(c.closed).toBe(true);
    });

    it("reconnects: open transactions close, and the client serves again", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        c.reconnect();
        expect(tx.closed).toBe(true);
        expect(c.closed).toBe(false);
        // A memory database is new after reconnecting; a persistent one lost only the transaction.
        await c.execute("CREATE TABLE IF NOT EXISTS t(x)");
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
        await c.execute("INSERT INTO t VALUES (2)");
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
      }));

    it("reports the protocol and refuses sync without a replica", () =>
      withClient(factory, async (c) => {
        expect(["file", "http"]).toContain(c.protocol);
        await expectLibsqlError(c.sync(), "SYNC_NOT_SUPPORTED");
      }));
  });
}
