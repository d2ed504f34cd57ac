import { describe, expect, it } from "vitest";
import type { TransactionMode } from "../../src/api.js";
import { LibsqlBatchError } from "../../src/errors.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { expectLibsqlError } from "../support/expect-error.js";

/** Atomic batches in every mode. */
export function batchSuite(factory: ClientFactory): void {
  describe("batch", () => {
    for (const mode of ["write", "deferred", "exclusive"] as TransactionMode[]) {
      it(`runs statements atomically in ${mode} mode`, () =>
        withClient(factory, async (c) => {
          const results = await c.batch(
            [
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
              { sql: "INSERT INTO t(v) VALUES (?)", args: ["a"] },
              ["INSERT INTO t(v) VALUES (?)", ["b"]],
              "SELECT v FROM t ORDER BY id",
            ],
            mode,
          );
          expect(results.length).toBe(4);
          expect(results[1]!.lastInsertRowid).toBe(1n);
          expect(results[3]!.rows.map((r) => r.v)).toEqual(["a", "b"]);
        }));
    }

    it("reads in read mode and refuses writes there", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.execute("INSERT INTO t VALUES (1)");
        const [rs] = await c.batch(["SELECT x FROM t"], "read");
        expect(rs!.rows[0]!.x).toBe(1);
        const error = await expectLibsqlError(c.batch(["INSERT INTO t VALUES (2)"], "read"), {
          code: "SQLITE_READONLY",
          statementIndex: 0,
        });
        expect(error.message).toMatch(/readonly|read-only|read only/i);
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
      }));

    it("rolls everything back when one statement fails, naming its index", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
        await expectLibsqlError(
          c.batch(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (1)"], "write"),
          {
            code: "SQLITE_CONSTRAINT",
            statementIndex: 2,
            ...(factory.caps.extendedCodes ? { extendedCode: "SQLITE_CONSTRAINT_PRIMARYKEY", rawCode: 1555 } : {}),
          },
        );
        expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
      }));

    it("reports an error in the first statement with index 0", () =>
      withClient(factory, async (c) => {
        const error = await c.batch(["SELECT * FROM missing", "SELECT 1"]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LibsqlBatchError);
        expect((error as LibsqlBatchError).statementIndex).toBe(0);
        expect((error as LibsqlBatchError).message).toMatch(/missing/);
        // A server names this failure its own way; our engine says what SQLite said.
        if (factory.caps.localEngine) expect((error as LibsqlBatchError).code).toBe("SQLITE_ERROR");
      }));

    it("returns an empty list for an empty batch", () =>
      withClient(factory, async (c) => {
        expect(await c.batch([], "write")).toEqual([]);
      }));
  });
}
