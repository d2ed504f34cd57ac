/**
 * The worker transport reads cursors up to three chunks ahead (the worker
 * reads on while the page handles earlier chunks). These check that
 * reading ahead changes nothing a caller can see: rows arrive whole and in
 * order, errors arrive where they happened, closing early works, and a
 * statement the caller never reached never runs.
 */
import { describe, expect, it } from "vitest";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();

const numbers = (n: number, select = "i") =>
  `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) SELECT ${select} FROM c`;

describe("cursor read-ahead in the worker transport", () => {
  it("delivers every row in order, chunk after chunk", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async (sql) => {
      const t = await window.lib.openWorkerTransport({ storage: "memory", path: "" });
      try {
        const cursor = await t.main.openCursor([{ stmt: { sql } }], "number");
        const seen: number[] = [];
        const entryTypes = new Set<string>();
        for (;;) {
          const chunk = await cursor.fetch(100);
          for (const entry of chunk.entries) {
            entryTypes.add(entry.type);
            if (entry.type === "rows") for (const row of window.lib.rows(entry.rows)) seen.push(row[0] as number);
          }
          if (chunk.done) break;
        }
        return { count: seen.length, inOrder: seen.every((v, i) => v === i + 1), entryTypes: [...entryTypes].sort() };
      } finally {
        await t.close();
      }
    }, numbers(5000));
    expect(result).toEqual({ count: 5000, inOrder: true, entryTypes: ["rows", "step_begin", "step_end"] });
  });

  it("reports an error in the chunk where it happened", async () => {
    const page = await browser.open();
    const chunks = await page.evaluate(
      async (sql) => {
        const t = await window.lib.openWorkerTransport({ storage: "memory", path: "" });
        try {
          const cursor = await t.main.openCursor([{ stmt: { sql } }], "number");
          const out: { rows: number; error?: string }[] = [];
          for (;;) {
            const chunk = await cursor.fetch(100);
            let rows = 0;
            let error: string | undefined;
            for (const entry of chunk.entries) {
              if (entry.type === "rows") rows += window.lib.rows(entry.rows).length;
              if (entry.type === "step_error") error = entry.error.code;
            }
            out.push(error ? { rows, error } : { rows });
            if (chunk.done) break;
          }
          return out;
        } finally {
          await t.close();
        }
      },
      numbers(1000, "i, CASE WHEN i = 450 THEN json('not json') ELSE i END"),
    );
    expect(chunks).toEqual([
      { rows: 100 },
      { rows: 100 },
      { rows: 100 },
      { rows: 100 },
      { rows: 49, error: "SQLITE_ERROR" },
    ]);
  });

  it("closes early with chunks read ahead, and the connection goes on", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async (sql) => {
      const t = await window.lib.openWorkerTransport({ storage: "memory", path: "" });
      try {
        const cursor = await t.main.openCursor([{ stmt: { sql } }], "number");
        await cursor.fetch(1000);
        // The next chunks are on their way; close without taking them.
        await cursor.close();
        await t.main.execute({ sql: "CREATE TABLE t(x)" }, "number");
        await t.main.execute({ sql: "INSERT INTO t VALUES (1)" }, "number");
        return (await t.main.execute({ sql: "SELECT count(*) FROM t" }, "number")).rows;
      } finally {
        await t.close();
      }
    }, numbers(100_000));
    expect(result).toEqual([[1]]);
  });

  it("never reads ahead into a statement the caller did not reach", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async (sql) => {
      const t = await window.lib.openWorkerTransport({ storage: "memory", path: "" });
      try {
        await t.main.execute({ sql: "CREATE TABLE t(x)" }, "number");
        const cursor = await t.main.openCursor(
          [{ stmt: { sql } }, { stmt: { sql: "INSERT INTO t VALUES ('reached')" } }],
          "number",
        );
        // Exactly the first statement's rows: the cursor stops before stepping past the last one.
        const first = await cursor.fetch(100);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await cursor.close();
        const rows = first.entries.flatMap((entry) => (entry.type === "rows" ? window.lib.rows(entry.rows) : []));
        const inserted = window.lib.rows(
          (await t.main.execute({ sql: "SELECT count(*) FROM t" }, "number")).rows,
        )[0]?.[0];
        return { rows: rows.length, done: first.done, inserted };
      } finally {
        await t.close();
      }
    }, numbers(100));
    expect(result).toEqual({ rows: 100, done: false, inserted: 0 });
  });
});
