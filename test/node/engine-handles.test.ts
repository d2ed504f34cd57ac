import { describe, expect, it } from "vitest";
import { createClient } from "../../src/node.js";
import { receivedRow } from "../../src/received-rows.js";
import { Engine } from "../../worker/engine.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { expectLibsqlError } from "../support/expect-error.js";

const memory = { storage: "memory", path: "" } as const;

describe("engine handles and owner checks", () => {
  it("refuses a statement or cursor used through a connection that does not own it", async () => {
    const engine = createNodeEngine();
    const a = await engine.open(memory);
    const b = await engine.fork(a);
    const other = await engine.open(memory);
    const { stmtId } = await engine.prepare(a, "SELECT 1 AS one");
    await expectLibsqlError(engine.query(b, stmtId, [], "number"), { code: "MISUSE", message: /another connection/ });
    await expectLibsqlError(engine.query(other, stmtId, [], "number"), "MISUSE");
    await expectLibsqlError(engine.finalize(b, stmtId), "MISUSE");
    const cursorId = await engine.openCursor(a, [{ stmt: { sql: "SELECT 1" } }], "number");
    await expectLibsqlError(engine.fetchCursor(b, cursorId, 10), "MISUSE");
    await expectLibsqlError(engine.closeCursor(other, cursorId), "MISUSE");
    // The owner still uses them.
    expect((await engine.query(a, stmtId, [], "number")).rows).toEqual([[1]]);
    expect((await engine.fetchCursor(a, cursorId, 10)).done).toBe(true);
    for (const conn of [a, b, other]) await engine.close(conn);
  });

  it("refuses unknown and closed handles with coded errors", async () => {
    const engine = createNodeEngine();
    const a = await engine.open(memory);
    const { stmtId } = await engine.prepare(a, "SELECT 1");
    await engine.finalize(a, stmtId);
    await expectLibsqlError(engine.query(a, stmtId, [], "number"), "STATEMENT_CLOSED");
    await expectLibsqlError(engine.fetchCursor(a, 424242, 1), "CURSOR_CLOSED");
    await engine.close(a);
    await engine.close(a);
    await expectLibsqlError(engine.execute(a, { sql: "SELECT 1" }, "number"), "CLIENT_CLOSED");
    await expectLibsqlError(engine.execute(999, { sql: "SELECT 1" }, "number"), "CLIENT_CLOSED");
    const fresh = await engine.open(memory);
    expect((await engine.execute(fresh, { sql: "SELECT 2" }, "number")).rows).toEqual([[2]]);
  });

  it("refuses batch conditions that refer to the current or a later step", async () => {
    const engine = createNodeEngine();
    const a = await engine.open(memory);
    await expectLibsqlError(
      engine.batch(a, [{ stmt: { sql: "SELECT 1" }, condition: { type: "ok", step: 0 } }], "number"),
      "BATCH_INVALID",
    );
    await expectLibsqlError(
      engine.batch(
        a,
        [{ stmt: { sql: "SELECT 1" } }, { stmt: { sql: "SELECT 2" }, condition: { type: "error", step: 5 } }],
        "number",
      ),
      "BATCH_INVALID",
    );
  });
});

describe("the database lock", () => {
  it("makes another connection wait for an open transaction, in arrival order", async () => {
    const engine = createNodeEngine();
    const a = await engine.open(memory);
    const b = await engine.fork(a);
    await engine.execute(a, { sql: "CREATE TABLE t(x)" }, "number");
    await engine.execute(a, { sql: "BEGIN IMMEDIATE" }, "number");
    await engine.execute(a, { sql: "INSERT INTO t VALUES (1)" }, "number");
    const order: string[] = [];
    const waiting = engine.execute(b, { sql: "SELECT count(*) FROM t" }, "number").then((r) => {
      order.push("b");
      return receivedRow(r.rows, 0)?.[0];
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push("a-commit");
    await engine.execute(a, { sql: "COMMIT" }, "number");
    expect(await waiting).toBe(1);
    expect(order).toEqual(["a-commit", "b"]);
  });

  it("gives SQLITE_BUSY after the busy timeout instead of hanging", async () => {
    const engine = createNodeEngine();
    const a = await engine.open({ ...memory, busyTimeoutMs: 100 });
    const b = await engine.fork(a);
    await engine.execute(a, { sql: "BEGIN" }, "number");
    await engine.execute(a, { sql: "CREATE TABLE t(x)" }, "number");
    const started = Date.now();
    await expectLibsqlError(engine.execute(b, { sql: "SELECT 1" }, "number"), { code: "SQLITE_BUSY", rawCode: 5 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await engine.execute(a, { sql: "ROLLBACK" }, "number");
    expect((await engine.execute(b, { sql: "SELECT 3" }, "number")).rows).toEqual([[3]]);
  });

  it("rolls back the transaction of a connection that goes away, and lets the next one in", async () => {
    const engine = createNodeEngine();
    const a = await engine.open(memory);
    const b = await engine.fork(a);
    await engine.execute(a, { sql: "CREATE TABLE t(x)" }, "number");
    await engine.execute(a, { sql: "BEGIN" }, "number");
    await engine.execute(a, { sql: "INSERT INTO t VALUES (1)" }, "number");
    const waiting = engine.execute(b, { sql: "SELECT count(*) FROM t" }, "number");
    await engine.close(a);
    expect((await waiting).rows).toEqual([[0]]);
  });

  it("makes a client call wait for the client's own open transaction, then time out", async () => {
    const client = createClient({ url: ":memory:", timeout: 150 });
    const tx = await client.transaction("write");
    await tx.execute("CREATE TABLE t(x)");
    await expectLibsqlError(client.execute("SELECT 1"), "SQLITE_BUSY");
    await tx.commit();
    expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    client.close();
  });
});

describe("engine loading", () => {
  it("does nothing until first used, and retries a failed load", async () => {
    let calls = 0;
    const engine = new Engine({
      loadSqlite: async () => {
        calls++;
        if (calls === 1) throw new Error("simulated network failure while fetching the wasm");
        return loadNodeSqlite("optimized");
      },
    });
    expect(calls).toBe(0);
    await expectLibsqlError(engine.open(memory), { code: "ENGINE_INIT_FAILED", message: /simulated/ });
    const conn = await engine.open(memory);
    expect((await engine.execute(conn, { sql: "SELECT 1" }, "number")).rows).toEqual([[1]]);
    await engine.open(memory);
    expect(calls).toBe(2);
  });

  it("runs on the package's original wasm too", async () => {
    const engine = createNodeEngine({ wasm: "original" });
    const conn = await engine.open(memory);
    const rs = await engine.execute(conn, { sql: "SELECT vector_extract(vector('[1,2,3]')) AS v" }, "number");
    expect(rs.rows).toEqual([["[1,2,3]"]]);
  });
});

describe("describe", () => {
  it("describes EXPLAIN statements without declared types", async () => {
    const engine = createNodeEngine();
    const conn = await engine.open(memory);
    await engine.execute(conn, { sql: "CREATE TABLE t(a INTEGER, b TEXT, c REAL)" }, "number");
    for (const sql of ["EXPLAIN SELECT * FROM t", "EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = ?"]) {
      const d = await engine.describe(conn, sql);
      expect(d.isExplain).toBe(true);
      expect(d.columnTypes).toEqual(d.columns.map(() => ""));
      expect(d.columns.length).toBeGreaterThan(3);
    }
    expect((await engine.describe(conn, "SELECT * FROM t")).columnTypes).toEqual(["INTEGER", "TEXT", "REAL"]);
  });
});
