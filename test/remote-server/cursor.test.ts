import { describe, expect, test } from "vitest";
import { cursor, delay, execute, type Json, ok, pipeline, post, stmt, v, withServer } from "./helpers.js";

/** The `/v3/cursor` endpoint: entry order, sqld's quirks versus the spec, and streaming. */

const steps = [
  { stmt: stmt("CREATE TABLE c(x INT UNIQUE)") },
  { condition: { type: "ok", step: 0 }, stmt: stmt("INSERT INTO c VALUES (1), (2)") },
  { stmt: stmt("SELECT x FROM c ORDER BY x") },
  { stmt: stmt("INSERT INTO c VALUES (1)") },
  { condition: { type: "ok", step: 3 }, stmt: stmt("SELECT 'skipped'") },
  { stmt: stmt("SELECT * FROM missing") },
  { stmt: stmt("SELECT ?") },
];

function expectedEntries(rowid: number | string): Json[] {
  return [
    { type: "step_begin", step: 0, cols: [] },
    { type: "step_end", affected_row_count: 0, last_insert_rowid: null },
    { type: "step_begin", step: 1, cols: [] },
    { type: "step_end", affected_row_count: 2, last_insert_rowid: rowid },
    { type: "step_begin", step: 2, cols: [{ name: "x", decltype: "INT" }] },
    { type: "row", row: [v.int(1)] },
    { type: "row", row: [v.int(2)] },
    { type: "step_end", affected_row_count: 0, last_insert_rowid: null },
    // A statement that fails while running: its columns came first.
    { type: "step_begin", step: 3, cols: [] },
    {
      type: "step_error",
      step: 3,
      error: { message: "SQLite error: UNIQUE constraint failed: c.x", code: "SQLITE_CONSTRAINT" },
    },
    // The skipped step 4 writes nothing; a statement that fails to prepare has no step_begin.
    {
      type: "step_error",
      step: 5,
      error: { message: "SQL input error: no such table: missing", code: "SQL_INPUT_ERROR" },
    },
    // Columns are described before arguments are bound, as in sqld.
    { type: "step_begin", step: 6, cols: [{ name: "?", decltype: null }] },
    {
      type: "step_error",
      step: 6,
      error: {
        message: "Arguments do not match SQL parameters: value for parameter 1 not found",
        code: "ARGS_INVALID",
      },
    },
  ];
}

describe("/v3/cursor", () => {
  test("entry sequence with sqld's quirks: numeric rowid, trailing replication_index", async () => {
    await withServer({}, async (server) => {
      const reply = await cursor(server, { baton: null, batch: { steps } });
      expect(reply.status).toBe(200);
      expect(reply.contentType).toBe("text/plain");
      expect(reply.cut).toBe(false);
      expect(reply.header).toEqual({ baton: expect.stringMatching(/^[A-Za-z0-9+/]{64}$/), base_url: null });
      expect(reply.entries).toEqual([...expectedEntries(2), { type: "replication_index", replication_index: null }]);
      // An i64 rowid is written exactly, as a JSON number.
      const big = await cursor(server, {
        baton: reply.header.baton,
        batch: { steps: [{ stmt: stmt("INSERT INTO c VALUES (3) RETURNING rowid"), condition: null }] },
      });
      expect(big.entries[2]).toEqual({ type: "step_end", affected_row_count: 1, last_insert_rowid: 3 });
      const exact = await cursor(server, {
        baton: big.header.baton,
        batch: { steps: [{ stmt: stmt("INSERT INTO c(rowid, x) VALUES (9007199254740993, 4)") }] },
      });
      expect(exact.text).toContain('"last_insert_rowid":9007199254740993}');
    });
  });

  test("the spec flavour: rowid as a string, no replication_index entry", async () => {
    await withServer({ cursorFlavour: "spec" }, async (server) => {
      const reply = await cursor(server, { baton: null, batch: { steps } });
      expect(reply.entries).toEqual(expectedEntries("2"));
    });
  });

  test("a batch that does not convert: sqld answers 500, the spec an error entry", async () => {
    const bad = { baton: null, batch: { steps: [{ stmt: stmt("SELECT 1; SELECT 2") }] } };
    await withServer({}, async (server) => {
      const reply = await cursor(server, bad);
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.text)).toEqual({ error: "Internal Error: SQL string contains more than one statement" });
      const badStep = await cursor(server, {
        batch: { steps: [{ condition: { type: "ok", step: 0 }, stmt: stmt("SELECT 1") }] },
      });
      expect(badStep.status).toBe(400);
      expect(badStep.text).toBe("Invalid reference to step in a batch condition");
    });
    await withServer({ cursorFlavour: "spec" }, async (server) => {
      const reply = await cursor(server, bad);
      expect(reply.status).toBe(200);
      expect(reply.entries).toEqual([
        {
          type: "error",
          error: { message: "SQL string contains more than one statement", code: "SQL_MANY_STATEMENTS" },
        },
      ]);
      // The stream survives a batch-level error.
      const next = await pipeline(server, reply.header.baton, [execute("SELECT 1")], { version: 3 });
      expect(next.results[0].type).toBe("ok");
    });
  });

  test("the cursor's baton continues the stream: a transaction spans cursor and pipeline", async () => {
    await withServer({}, async (server) => {
      const opened = await cursor(server, {
        baton: null,
        batch: {
          steps: [
            { stmt: stmt("CREATE TABLE t(x)") },
            { stmt: stmt("BEGIN") },
            { stmt: stmt("INSERT INTO t VALUES (1)") },
          ],
        },
      });
      expect(opened.entries.filter((e) => e.type === "step_error")).toEqual([]);
      const inside = await pipeline(
        server,
        opened.header.baton,
        [execute("SELECT count(*) FROM t"), { type: "get_autocommit" }],
        { version: 3 },
      );
      expect(ok(inside.results[0]).result.rows).toEqual([[v.int(1)]]);
      expect(ok(inside.results[1]).is_autocommit).toBe(false);
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).all()).toEqual([[0]]);
      await pipeline(server, inside.baton, [execute("COMMIT"), { type: "close" }], { version: 3 });
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).all()).toEqual([[1]]);
    });
  });

  test("rows stream as the statement steps, with back-pressure; a reader that leaves stops it", async () => {
    await withServer({}, async (server) => {
      const big =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT i, printf('%080d', i) FROM n";
      const response = await fetch(`${server.url}/v3/cursor`, {
        method: "POST",
        body: JSON.stringify({ baton: null, batch: { steps: [{ stmt: stmt(big) }] } }),
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      const baton = JSON.parse(first.split("\n")[0] as string).baton;

      // A request on the same stream waits for the cursor to finish. While this client reads
      // nothing, the cursor must stay paused (about 100 MB of rows cannot all fit in the socket).
      let answered = false;
      const queued = post(server, "/v3/pipeline", {
        baton,
        requests: [execute("SELECT count(*) FROM w"), { type: "close" }],
      }).then((reply) => {
        answered = true;
        return reply;
      });
      await delay(500);
      expect(answered).toBe(false);
      // The server is not blocked meanwhile.
      const other = await pipeline(server, null, [execute("CREATE TABLE w(x)"), execute("INSERT INTO w VALUES (1)")]);
      expect(other.results.map((r) => r.type)).toEqual(["ok", "ok"]);

      // The reader leaves: the statement is reset (its read snapshot released), the queued
      // request runs, and sees the write made after the cursor started.
      await reader.cancel();
      const reply = await queued;
      expect(reply.status).toBe(200);
      expect(ok(reply.json.results[0]).result.rows).toEqual([[v.int(1)]]);
    });
  });
});
