import { describe, expect, it } from "vitest";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();

/**
 * The shared lane (`src/worker/shared-lane.ts`) on a cross-origin isolated
 * page, against the same calls by message: same results, same errors, no
 * call lost or starved, and the worker's death still ends every call.
 */
/** Long waits on the lane, so that a loaded machine cannot make a test miss it (the defaults are 2 and 5 ms). */
const STEADY = { lingerMs: 1000, sliceMs: 1000 };

describe("shared lane in Chromium", () => {
  it("answers sequential calls on the lane, with the same results as messages", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async (laneTiming) => {
      const { lib } = window;
      const lane = await lib.openEngine({ sharedLane: true, laneTiming });
      const message = await lib.openEngine({ sharedLane: false });
      const texts = [
        "",
        "plain",
        "é ü ß",
        "中文",
        "😀 emoji",
        "lone \ud800 surrogate",
        "nul\u0000inside",
        "x".repeat(5000),
      ];
      const read = async ({ engine, conn }: typeof lane) => {
        await engine.execute(
          conn,
          { sql: "CREATE TABLE v(id INTEGER PRIMARY KEY, t TEXT, i INTEGER, r REAL, b BLOB)" },
          "number",
        );
        const out: unknown[] = [];
        for (let k = 0; k < texts.length; k++) {
          const args = [k, texts[k] as string, 2n ** 62n + BigInt(k), k + 0.25, new Uint8Array([k, 255, 0])];
          out.push(
            (await engine.execute(conn, { sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)", args }, "bigint"))
              .lastInsertRowid,
          );
        }
        for (let k = 0; k < texts.length; k++) {
          const rs = await engine.execute(
            conn,
            { sql: "SELECT t, i, r, b, NULL AS n, -0.0 AS z FROM v WHERE id = ?", args: [k] },
            "bigint",
          );
          const row = lib.rows(rs.rows)[0] as unknown[];
          out.push(
            rs.columns,
            rs.columnTypes,
            row.slice(0, 3),
            [...new Uint8Array(row[3] as ArrayBuffer)],
            row[4],
            Object.is(row[5], -0),
          );
        }
        const named = await engine.execute(
          conn,
          { sql: "SELECT :a || $b AS c", namedArgs: { ":a": "x", $b: "y" } },
          "number",
        );
        out.push(lib.rows(named.rows));
        return out;
      };
      const viaLane = await read(lane);
      const viaMessage = await read(message);
      const calls = 2 * texts.length + 2;
      const answers = { lane: lane.engine.laneAnswers, message: message.engine.laneAnswers, calls };
      lane.engine.end("done");
      message.engine.end("done");
      return {
        same:
          JSON.stringify(viaLane, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ===
          JSON.stringify(viaMessage, (_, v) => (typeof v === "bigint" ? `${v}n` : v)),
        answers,
        sample: viaLane.slice(texts.length, texts.length + 6),
      };
    }, STEADY);
    expect(result.same).toBe(true);
    expect(result.answers.message).toBe(0);
    // The first call finds the worker in its event loop; after it, the worker waits on the lane.
    expect(result.answers.lane).toBeGreaterThanOrEqual(result.answers.calls - 3);
  });

  it("brings errors back whole through the lane", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async (laneTiming) => {
      const { lib } = window;
      const { engine, conn } = await lib.openEngine({ sharedLane: true, laneTiming });
      await engine.execute(conn, { sql: "CREATE TABLE u(name TEXT UNIQUE)" }, "number");
      await engine.execute(conn, { sql: "INSERT INTO u VALUES ('a')" }, "number");
      const before = engine.laneAnswers;
      const trace = [engine.laneAnswers];
      const unique = await lib.thrown(engine.execute(conn, { sql: "INSERT INTO u VALUES ('a')" }, "number"));
      trace.push(engine.laneAnswers);
      const syntax = await lib.thrown(engine.execute(conn, { sql: "SELEC 1" }, "number"));
      trace.push(engine.laneAnswers);
      const stmt = await lib.thrown(engine.query(conn, 12345, [], "number"));
      trace.push(engine.laneAnswers);
      const onLane = engine.laneAnswers - before;
      engine.end("done");
      return { unique, syntax, stmt, onLane, trace };
    }, STEADY);
    expect(result.onLane, JSON.stringify(result.trace)).toBe(3);
    expect(result.unique).toMatchObject({
      isLibsqlError: true,
      code: "SQLITE_CONSTRAINT",
      extendedCode: "SQLITE_CONSTRAINT_UNIQUE",
      rawCode: 2067,
    });
    expect(result.syntax).toMatchObject({ isLibsqlError: true, code: "SQLITE_ERROR" });
    expect(result.stmt).toMatchObject({ isLibsqlError: true, code: "STATEMENT_CLOSED" });
  });

  it("sends what does not fit by message: large arguments, large results, rows sent ahead", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async (laneTiming) => {
      const { lib } = window;
      const { engine, conn } = await lib.openEngine({ sharedLane: true, laneTiming });
      await engine.execute(conn, { sql: "CREATE TABLE b(v BLOB)" }, "number");
      const blob = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
      await engine.execute(conn, { sql: "SELECT 1" }, "number");
      await engine.execute(conn, { sql: "INSERT INTO b VALUES (?)", args: [blob] }, "number");
      const back = lib.rows(
        (await engine.execute(conn, { sql: "SELECT v FROM b" }, "number")).rows,
      )[0]?.[0] as ArrayBuffer;
      const many = await engine.execute(
        conn,
        {
          sql: "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000) SELECT i, 'n' || i FROM c",
        },
        "number",
      );
      const rows = lib.rows(many.rows);
      const small = await engine.execute(conn, { sql: "SELECT 42" }, "number");
      engine.end("done");
      return {
        blob: back.byteLength === blob.length && new Uint8Array(back).every((v, i) => v === blob[i]),
        count: rows.length,
        last: rows.at(-1),
        ordered: rows.every((row, i) => row[0] === i + 1),
        small: lib.rows(small.rows),
      };
    }, STEADY);
    expect(result).toEqual({ blob: true, count: 100_000, last: [100_000, "n100000"], ordered: true, small: [[42]] });
  });

  it("keeps many calls in flight at once, mixed with the other calls, in order per connection", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const { engine, conn } = await lib.openEngine({ sharedLane: true });
      await engine.execute(conn, { sql: "CREATE TABLE n(i INTEGER)" }, "number");
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        calls.push(engine.execute(conn, { sql: "INSERT INTO n VALUES (?)", args: [i] }, "number"));
        if (i % 10 === 0) calls.push(engine.describe(conn, "SELECT i FROM n"));
        if (i % 25 === 0) calls.push(engine.getAutocommit(conn));
      }
      await Promise.all(calls);
      const rows = lib.rows((await engine.execute(conn, { sql: "SELECT i FROM n ORDER BY rowid" }, "number")).rows);
      const lane = engine.laneAnswers;
      engine.end("done");
      return { count: rows.length, inOrder: rows.every((row, i) => row[0] === i), lane };
    });
    expect(result).toMatchObject({ count: 300, inOrder: true });
  });

  it("keeps a cursor's chunks in order while it reads ahead (several fetches in flight, some on the lane)", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async (laneTiming) => {
      const { lib } = window;
      const { engine, conn } = await lib.openEngine({ sharedLane: true, laneTiming });
      await engine.execute(conn, { sql: "CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT)" }, "number");
      await engine.execute(
        conn,
        {
          sql: "INSERT INTO big SELECT i, 'name-' || i FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000) SELECT i FROM c)",
        },
        "number",
      );
      const runs = [];
      for (const size of [1000, 7000]) {
        const cursor = await engine.openCursor(conn, [{ stmt: { sql: "SELECT id, name FROM big" } }], "number");
        let next = 1;
        let outOfOrder = 0;
        for (;;) {
          const chunk = await engine.fetchCursor(conn, cursor, size);
          for (const entry of chunk.entries) {
            if (entry.type !== "rows") continue;
            for (const row of lib.rows(entry.rows)) if (row[0] !== next++) outOfOrder++;
          }
          if (chunk.done) break;
        }
        await engine.closeCursor(conn, cursor);
        runs.push({ size, rows: next - 1, outOfOrder });
      }
      const lane = engine.laneAnswers;
      engine.end("done");
      return { runs, lane };
    }, STEADY);
    expect(result.runs).toEqual([
      { size: 1000, rows: 200_000, outOfOrder: 0 },
      { size: 7000, rows: 200_000, outOfOrder: 0 },
    ]);
    expect(result.lane).toBeGreaterThan(10);
  });

  it("never starves another connection's port while one keeps the lane busy", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const worker = lib.workers.engine();
      const { engine: busy, conn: busyConn } = await lib.openEngine({ sharedLane: true }, worker);
      const { engine: other, conn: otherConn } = await lib.openEngine({ sharedLane: false }, worker);
      let running = true;
      let busyCalls = 0;
      const loop = (async () => {
        while (running) {
          await busy.execute(busyConn, { sql: "SELECT 1" }, "number");
          busyCalls++;
        }
      })();
      const waits: number[] = [];
      const until = performance.now() + 600;
      while (performance.now() < until) {
        const started = performance.now();
        await other.execute(otherConn, { sql: "SELECT 2" }, "number");
        waits.push(performance.now() - started);
      }
      running = false;
      await loop;
      const laneAnswers = busy.laneAnswers;
      worker.terminate();
      waits.sort((a, b) => a - b);
      return { otherCalls: waits.length, worst: waits.at(-1) as number, busyCalls, laneAnswers };
    });
    expect(result.laneAnswers).toBeGreaterThan(result.busyCalls / 2);
    expect(result.otherCalls).toBeGreaterThan(20);
    // The worker leaves the lane at least every few milliseconds (SLICE_MS) for its event loop.
    expect(result.worst).toBeLessThan(250);
  });

  it("rejects a call waiting on the lane with WORKER_TERMINATED when the worker is terminated", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async (laneTiming) => {
      const { lib } = window;
      const { engine, conn, worker } = await lib.openEngine({ sharedLane: true, laneTiming });
      await engine.execute(conn, { sql: "SELECT 1" }, "number");
      const before = engine.laneAnswers;
      await engine.execute(conn, { sql: "SELECT 1" }, "number");
      const slow = engine.execute(
        conn,
        {
          sql: "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000000) SELECT count(*) FROM c",
        },
        "number",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      worker.terminate();
      engine.end("was terminated");
      const error = await lib.thrown(slow);
      const later = await lib.thrown(engine.execute(conn, { sql: "SELECT 1" }, "number"));
      return { usedLane: engine.laneAnswers > before, error, later };
    }, STEADY);
    expect(result.usedLane).toBe(true);
    expect(result.error).toMatchObject({ isLibsqlError: true, code: "WORKER_TERMINATED" });
    expect(result.later).toMatchObject({ isLibsqlError: true, code: "WORKER_TERMINATED" });
  });
});
