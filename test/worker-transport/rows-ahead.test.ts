import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { receivedArrays } from "../../src/received-rows.js";
import { RowsBuilder } from "../../src/result-set.js";
import type { RowsWire } from "../../src/worker/hot-wire.js";
import { serveHotCalls } from "../../src/worker/serve-hot-calls.js";
import { WorkerEngine } from "../../src/worker/worker-engine.js";
import { ANSWER_ROWS_AHEAD, HOT } from "../../src/worker/worker-protocol.js";
import { Engine } from "../../worker/engine.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { packedRows } from "../../worker/row-format.js";

const numbers = (n: number, select: string) =>
  `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) SELECT ${select} FROM c`;

/**
 * A large result's rows go to the page in batches while the statement still
 * runs (the page decodes them meanwhile). The page-side engine is served
 * over a real MessageChannel by the engine a browser worker uses.
 */
describe("rows sent ahead of a result", () => {
  const channel = new MessageChannel();
  const engine = new Engine<RowsWire>({
    loadSqlite: () => loadNodeSqlite("optimized"),
    rows: packedRows,
    rowsAhead: true,
  });
  const plain = new Engine({ loadSqlite: () => loadNodeSqlite("optimized") });
  let page: WorkerEngine;
  let conn: number;
  let plainConn: number;
  let ahead = 0;

  beforeAll(async () => {
    serveHotCalls(channel.port1, engine);
    page = new WorkerEngine(channel.port2);
    channel.port2.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as unknown[];
      if (Array.isArray(data) && data[0] === HOT && data[2] === ANSWER_ROWS_AHEAD) ahead++;
    });
    conn = await engine.open({ storage: "memory", path: "" });
    plainConn = await plain.open({ storage: "memory", path: "" });
  });

  afterAll(async () => {
    page.end("was closed");
    channel.port1.close();
    channel.port2.close();
    await engine.close(conn);
    await plain.close(plainConn);
  });

  it("joins the rows sent ahead and the result's own, in order, for execute and query", async () => {
    const sql = numbers(50_000, "i, 'name-' || i, i * 1.5, CASE WHEN i % 7 = 0 THEN x'0102' END");
    const want = (await plain.execute(plainConn, { sql }, "bigint")).rows;
    ahead = 0;
    const got = await page.execute(conn, { sql }, "bigint");
    expect(ahead).toBeGreaterThan(5);
    expect(got.columns).toHaveLength(4);
    expect(receivedArrays(got.rows)).toEqual(want);

    const { stmtId } = await engine.prepare(conn, sql);
    ahead = 0;
    const queried = await page.query(conn, stmtId, [], "bigint");
    expect(ahead).toBeGreaterThan(5);
    expect(receivedArrays(queried.rows)).toEqual(want);
    expect(receivedArrays((await page.query(conn, stmtId, [], "bigint", 1)).rows)).toEqual([want[0]]);
    await engine.finalize(conn, stmtId);
  });

  it("hands the batches to the caller with their columns, and the result keeps the rest", async () => {
    const sql = numbers(30_000, "i AS n, 'row ' || i AS label");
    const batches: { count: number; columns: string[] }[] = [];
    const rest = await page.execute(conn, { sql }, "number", (rows, columns) => {
      batches.push({ count: receivedArrays(rows).length, columns });
    });
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.columns).toEqual(["n", "label"]);
    const total = batches.reduce((n, b) => n + b.count, 0) + receivedArrays(rest.rows).length;
    expect(total).toBe(30_000);
  });

  it("builds rows batch by batch, and an unsafe integer in a batch fails the call once it ends", async () => {
    const sql = numbers(30_000, "i, CASE WHEN i = 20000 THEN 9007199254740993 ELSE i END AS v");
    const rows = new RowsBuilder("bigint");
    const result = rows.finish(await page.execute(conn, { sql }, "bigint", rows.add));
    expect(result.rows).toHaveLength(30_000);
    expect(result.rows[19_999]?.v).toBe(9007199254740993n);
    expect(result.rows[29_999]?.[0]).toBe(30_000n);
    const failing = new RowsBuilder("number");
    const answer = await page.execute(conn, { sql }, "number", failing.add);
    expect(() => failing.finish(answer)).toThrow(RangeError);
  });

  it("sends nothing ahead for a small result", async () => {
    ahead = 0;
    const got = await page.execute(conn, { sql: numbers(1000, "i") }, "number");
    expect(ahead).toBe(0);
    expect(receivedArrays(got.rows)).toHaveLength(1000);
  });

  it("rejects with the statement's error when it fails after rows went ahead, and goes on", async () => {
    ahead = 0;
    const failing = page.execute(
      conn,
      { sql: numbers(40_000, "CASE WHEN i = 30000 THEN json('x') ELSE i END") },
      "number",
    );
    await expect(failing).rejects.toSatisfy((error) => error instanceof LibsqlError && error.code === "SQLITE_ERROR");
    expect(ahead).toBeGreaterThan(0);
    expect(receivedArrays((await page.execute(conn, { sql: "SELECT 42" }, "number")).rows)).toEqual([[42]]);
  });
});
