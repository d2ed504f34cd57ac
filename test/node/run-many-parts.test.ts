import { describe, expect, it } from "vitest";
import { receivedArrays } from "../../src/received-rows.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { expectLibsqlError } from "../support/expect-error.js";

const memory = { storage: "memory", path: "" } as const;
const lists = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => [from + i]);

/** A `runMany` in parts (how the page sends a long one to the engine's worker) keeps the whole one's guarantees. */
describe("runMany in parts", () => {
  async function setUp() {
    const engine = createNodeEngine();
    const conn = await engine.open(memory);
    const other = await engine.fork(conn);
    await engine.execute(conn, { sql: "CREATE TABLE t(x INTEGER UNIQUE)" }, "number");
    const { stmtId } = await engine.prepare(conn, "INSERT INTO t VALUES (?)");
    const count = async () =>
      receivedArrays((await engine.execute(other, { sql: "SELECT count(*) FROM t" }, "number")).rows)[0]?.[0];
    return { engine, conn, other, stmtId, count };
  }

  it("commits the parts together at the last one, and other connections wait for it", async () => {
    const { engine, conn, other, stmtId, count } = await setUp();
    const first = await engine.runMany(conn, stmtId, lists(0, 100), { first: true, last: false, offset: 0 });
    expect(first.rowsAffected).toBe(100);
    // Between the parts the connection holds the database: another one waits for the last part.
    let otherDone = false;
    const otherInsert = engine.execute(other, { sql: "INSERT INTO t VALUES (-1)" }, "number").then(() => {
      otherDone = true;
    });
    await engine.runMany(conn, stmtId, lists(100, 200), { first: false, last: false, offset: 100 });
    expect(otherDone).toBe(false);
    const last = await engine.runMany(conn, stmtId, lists(200, 250), { first: false, last: true, offset: 200 });
    expect(last).toEqual({ rowsAffected: 50, lastInsertRowid: 250n });
    await otherInsert;
    expect(await count()).toBe(251);
    expect(await engine.getAutocommit(conn)).toBe(true);
  });

  it("undoes every part when one fails, names the list in the whole, and runs none of the parts after it", async () => {
    const { engine, conn, stmtId, count } = await setUp();
    await engine.runMany(conn, stmtId, lists(0, 100), { first: true, last: false, offset: 0 });
    const clash = lists(100, 200);
    clash[30] = [5];
    await expectLibsqlError(engine.runMany(conn, stmtId, clash, { first: false, last: false, offset: 100 }), {
      code: "SQLITE_CONSTRAINT",
      statementIndex: 130,
    });
    await expectLibsqlError(
      engine.runMany(conn, stmtId, lists(1000, 1100), { first: false, last: true, offset: 200 }),
      {
        code: "SQLITE_CONSTRAINT",
        statementIndex: 130,
      },
    );
    expect(await count()).toBe(0);
    expect(await engine.getAutocommit(conn)).toBe(true);
    // The connection serves again, and a new runMany in parts starts afresh.
    await engine.runMany(conn, stmtId, lists(0, 10), { first: true, last: false, offset: 0 });
    await engine.runMany(conn, stmtId, lists(10, 20), { first: false, last: true, offset: 10 });
    expect(await count()).toBe(20);
  });

  it("keeps nothing when a part goes missing, and refuses parts out of turn", async () => {
    const { engine, conn, stmtId, count } = await setUp();
    await expectLibsqlError(
      engine.runMany(conn, stmtId, lists(0, 10), { first: false, last: true, offset: 0 }),
      "MISUSE",
    );
    await engine.runMany(conn, stmtId, lists(0, 100), { first: true, last: false, offset: 0 });
    await expectLibsqlError(
      engine.runMany(conn, stmtId, lists(0, 10), { first: true, last: true, offset: 0 }),
      "MISUSE",
    );
    await expectLibsqlError(
      engine.runMany(conn, stmtId, lists(200, 300), { first: false, last: true, offset: 200 }),
      "INTERNAL_ERROR",
    );
    expect(await count()).toBe(0);
    expect(await engine.getAutocommit(conn)).toBe(true);
  });

  it("undoes the parts before an abandoning one, ends the runMany and serves again", async () => {
    const { engine, conn, stmtId, count } = await setUp();
    await engine.runMany(conn, stmtId, lists(0, 100), { first: true, last: false, offset: 0 });
    await engine.runMany(conn, stmtId, lists(100, 200), { first: false, last: false, offset: 100 });
    await expectLibsqlError(
      engine.runMany(conn, stmtId, [], { first: false, last: true, offset: 200, abandon: true }),
      "MISUSE",
    );
    expect(await count()).toBe(0);
    expect(await engine.getAutocommit(conn)).toBe(true);
    // After a part that failed, abandoning ends the runMany too, with nothing more undone.
    await engine.runMany(conn, stmtId, lists(0, 10), { first: true, last: false, offset: 0 });
    await expectLibsqlError(engine.runMany(conn, stmtId, [[3]], { first: false, last: false, offset: 10 }), {
      code: "SQLITE_CONSTRAINT",
    });
    await expectLibsqlError(
      engine.runMany(conn, stmtId, [], { first: false, last: true, offset: 11, abandon: true }),
      "MISUSE",
    );
    await engine.runMany(conn, stmtId, lists(0, 5), { first: true, last: true, offset: 0 });
    expect(await count()).toBe(5);
  });

  it("inside a transaction, undoes only its own parts", async () => {
    const { engine, conn, stmtId, count } = await setUp();
    await engine.execute(conn, { sql: "BEGIN" }, "number");
    await engine.execute(conn, { sql: "INSERT INTO t VALUES (-5)" }, "number");
    await engine.runMany(conn, stmtId, lists(0, 50), { first: true, last: false, offset: 0 });
    await expectLibsqlError(engine.runMany(conn, stmtId, [[1]], { first: false, last: true, offset: 50 }), {
      code: "SQLITE_CONSTRAINT",
      statementIndex: 50,
    });
    expect(await engine.getAutocommit(conn)).toBe(false);
    await engine.execute(conn, { sql: "COMMIT" }, "number");
    expect(await count()).toBe(1);
  });
});
