import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { expectLibsqlError } from "../support/expect-error.js";

async function count(c: Client, table = "t"): Promise<unknown> {
  return (await c.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n;
}

/** Interactive transactions, callback transactions and savepoints. */
export function transactionSuite(factory: ClientFactory): void {
  describe("transactions", () => {
    it("commits", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("write");
        expect(tx.closed).toBe(false);
        await tx.execute("INSERT INTO t VALUES (1)");
        const inside = await tx.execute("SELECT count(*) AS n FROM t");
        expect(inside.rows[0]!.n).toBe(1);
        await tx.commit();
        expect(tx.closed).toBe(true);
        expect(await count(c)).toBe(1);
      }));

    it("rolls back", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        await tx.rollback();
        expect(tx.closed).toBe(true);
        expect(await count(c)).toBe(0);
      }));

    it("rolls back when closed without commit, and close is idempotent", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("deferred");
        await tx.execute("INSERT INTO t VALUES (1)");
        tx.close();
        tx.close();
        expect(tx.closed).toBe(true);
        expect(await count(c)).toBe(0);
      }));

    it("refuses use after commit with TRANSACTION_CLOSED, saying why", () =>
      withClient(factory, async (c) => {
        const tx = await c.transaction("write");
        await tx.execute("SELECT 1");
        await tx.commit();
        const error = await expectLibsqlError(tx.execute("SELECT 1"), "TRANSACTION_CLOSED");
        expect(String((error.cause as Error)?.message)).toMatch(/committed/);
        await expectLibsqlError(tx.commit(), "TRANSACTION_CLOSED");
        await tx.rollback();
      }));

    it("keeps the transaction open after a failing statement", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x UNIQUE)");
        const tx = await c.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        await expectLibsqlError(tx.execute("INSERT INTO t VALUES (1)"), "SQLITE_CONSTRAINT");
        await tx.execute("INSERT INTO t VALUES (2)");
        await tx.commit();
        expect(await count(c)).toBe(2);
      }));

    it("runs batches inside, stopping at the first error without rolling back", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x UNIQUE)");
        const tx = await c.transaction("write");
        await expectLibsqlError(
          tx.batch(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (3)"]),
          { code: "SQLITE_CONSTRAINT", statementIndex: 1 },
        );
        expect(tx.closed).toBe(false);
        const [rs] = await tx.batch(["SELECT count(*) AS n FROM t"]);
        expect(rs!.rows[0]!.n).toBe(1);
        await tx.commit();
        expect(await count(c)).toBe(1);
      }));

    it("runs scripts inside with executeMultiple", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("write");
        await tx.executeMultiple("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);");
        await tx.rollback();
        expect(await count(c)).toBe(0);
      }));

    it("commits a callback transaction that resolves and returns its value", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const value = await c.transaction("write", async (tx) => {
          await tx.execute("INSERT INTO t VALUES (1)");
          return "done";
        });
        expect(value).toBe("done");
        expect(await count(c)).toBe(1);
      }));

    it("rolls back a callback transaction that throws, rethrowing its error", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const failure = new Error("nope");
        await expect(
          c.transaction("write", async (tx) => {
            await tx.execute("INSERT INTO t VALUES (1)");
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await count(c)).toBe(0);
      }));

    it("nests savepoints, rolling back only the one that throws", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.transaction("write", async (tx) => {
          await tx.execute("INSERT INTO t VALUES (1)");
          await tx.savepoint(async (outer) => {
            await outer.execute("INSERT INTO t VALUES (2)");
            await expect(
              outer.savepoint(async (inner) => {
                await inner.execute("INSERT INTO t VALUES (3)");
                throw new Error("undo 3");
              }),
            ).rejects.toThrow("undo 3");
            await outer.savepoint(async (inner) => {
              await inner.execute("INSERT INTO t VALUES (4)");
            });
          });
          await expectLibsqlError(
            tx.savepoint(async (sp) => sp.commit()),
            "MISUSE",
          );
        });
        const rs = await c.execute("SELECT group_concat(x, ',') AS xs FROM (SELECT x FROM t ORDER BY x)");
        expect(rs.rows[0]!.xs).toBe("1,2,4");
      }));

    it("offers exclusive and read transactions", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        await c.transaction("exclusive", async (tx) => {
          await tx.execute("INSERT INTO t VALUES (1)");
        });
        const tx = await c.transaction("read");
        expect((await tx.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
        await expectLibsqlError(tx.execute("INSERT INTO t VALUES (2)"), "SQLITE_READONLY");
        await tx.rollback();
      }));

    it("closes a transaction whose SQL ended it", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE t(x)");
        const tx = await c.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        await tx.execute("COMMIT");
        await expectLibsqlError(tx.execute("INSERT INTO t VALUES (2)"), "TRANSACTION_CLOSED");
        expect(await count(c)).toBe(1);
      }));

    it("closes open transactions when the client closes", async () => {
      const c = await factory.create();
      const tx = await c.transaction("write");
      await tx.execute("SELECT 1");
      c.close();
      expect(tx.closed).toBe(true);
      await expectLibsqlError(tx.execute("SELECT 1"), "TRANSACTION_CLOSED");
    });
  });
}
