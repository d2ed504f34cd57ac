import { describe, expect, test } from "vitest";
import { delay, execute, type Json, ok, pipeline, post, stmt, v, withServer } from "./helpers.js";

/** Hrana over HTTP spoken with raw `fetch`, checked against sqld's behaviour (docs/protocols.md §1). */

describe("endpoints", () => {
  test("probes, unknown paths and wrong methods", async () => {
    await withServer({ authToken: "probe-token" }, async (server) => {
      for (const path of ["/v2", "/v3"]) {
        const r = await fetch(`${server.url}${path}`);
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("text/plain");
        expect(await r.text()).toBe("Hello, this is HTTP API v2 (Hrana over HTTP)");
      }
      expect((await fetch(`${server.url}/v3-protobuf`)).status).toBe(404);
      expect((await fetch(`${server.url}/v3-protobuf/pipeline`, { method: "POST", body: "" })).status).toBe(404);
      expect((await fetch(`${server.url}/v2/cursor`, { method: "POST", body: "{}" })).status).toBe(404);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect((await fetch(`${server.url}/v2/pipeline`)).status).toBe(405);
    });
  });

  test("v2 and v3 pipelines answer alike, including get_autocommit and is_autocommit", async () => {
    await withServer({}, async (server) => {
      for (const version of [2, 3] as const) {
        const body = await pipeline(
          server,
          null,
          [
            { type: "get_autocommit" },
            execute("BEGIN"),
            { type: "get_autocommit" },
            {
              type: "batch",
              batch: {
                steps: [
                  { stmt: stmt("SELECT 'in tx'") },
                  { condition: { type: "is_autocommit" }, stmt: stmt("SELECT 'autocommit'") },
                ],
              },
            },
            execute("ROLLBACK"),
            { type: "close" },
          ],
          { version },
        );
        expect(body.baton).toBeNull();
        expect(body.base_url).toBeNull();
        expect(body.results.map((r) => r.type)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok"]);
        expect(ok(body.results[0])).toEqual({ type: "get_autocommit", is_autocommit: true });
        expect(ok(body.results[2])).toEqual({ type: "get_autocommit", is_autocommit: false });
        const batch = ok(body.results[3]).result;
        expect(batch.step_results[0].rows).toEqual([[v.text("in tx")]]);
        expect(batch.step_results[1]).toBeNull();
        expect(batch.step_errors).toEqual([null, null]);
      }
    });
  });
});

describe("values and statement results", () => {
  test("values are encoded as sqld does and decoded with or without base64 padding", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("SELECT NULL, 42, -9223372036854775808, 2.5, 1.0, 'tëxt 😀', x'010203', x'0102', x''"),
        execute("SELECT ?, typeof(?), ?, typeof(?), ?, ?, length(?)", [
          v.int("9223372036854775807"),
          v.int(1),
          v.float(3),
          v.float(3),
          v.blob("AQI="),
          v.blob("AQI"),
          v.text("héllo"),
        ]),
      ]);
      expect(ok(body.results[0]).result.rows).toEqual([
        [
          v.null(),
          v.int(42),
          v.int("-9223372036854775808"),
          v.float(2.5),
          v.float(1),
          v.text("tëxt 😀"),
          v.blob("AQID"),
          v.blob("AQI"),
          v.blob(""),
        ],
      ]);
      expect(ok(body.results[1]).result.rows).toEqual([
        [
          v.int("9223372036854775807"),
          v.text("integer"),
          v.float(3),
          v.text("real"),
          v.blob("AQI"),
          v.blob("AQI"),
          v.int(5),
        ],
      ]);
    });
  });

  test("affected_row_count only for INSERT/UPDATE/DELETE, last_insert_rowid only for INSERT", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)"),
        execute("INSERT INTO t(x) VALUES (1), (2)"),
        execute("UPDATE t SET x = x + 1"),
        execute("SELECT * FROM t"),
        execute("INSERT INTO t(x) VALUES (3) RETURNING id"),
        execute("WITH s(v) AS (SELECT 9) INSERT INTO t(x) SELECT v FROM s"),
        execute("REPLACE INTO t(id, x) VALUES (1, 'r')"),
        execute("DELETE FROM t WHERE id > 2"),
      ]);
      const summary = body.results.map((r) => {
        const { cols, rows, affected_row_count, last_insert_rowid } = ok(r).result;
        return [cols.length, rows.length, affected_row_count, last_insert_rowid];
      });
      expect(summary).toEqual([
        [0, 0, 0, null],
        [0, 0, 2, "2"],
        [0, 0, 2, null],
        [2, 2, 0, null],
        [1, 1, 1, "3"],
        [0, 0, 1, "4"],
        [0, 0, 1, "1"],
        [0, 0, 2, null],
      ]);
      expect(ok(body.results[3]).result.cols).toEqual([
        { name: "id", decltype: "INTEGER" },
        { name: "x", decltype: null },
      ]);
    });
  });

  test("want_rows false runs the statement without returning rows", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        { type: "execute", stmt: stmt("SELECT 1 UNION SELECT 2", [], false) },
      ]);
      const result = ok(body.results[0]).result;
      expect(result.cols).toEqual([{ name: "1", decltype: null }]);
      expect(result.rows).toEqual([]);
    });
  });
});

describe("arguments", () => {
  test("positional, numbered and named arguments bind as sqld binds them", async () => {
    await withServer({}, async (server) => {
      const named = (sql: string, args: [string, Json][]) => ({
        type: "execute",
        stmt: { sql, named_args: args.map(([name, value]) => ({ name, value })) },
      });
      const body = await pipeline(server, null, [
        // `?` is 1, `?3` makes 3 the highest, `?2` names 2: sqld binds by index and name.
        execute("SELECT ?, ?3, ?2", [v.int(1), v.int(2), v.int(3)]),
        named("SELECT :a, @b, $c, :a", [
          [":a", v.int(1)],
          ["b", v.int(2)],
          ["$c", v.int(3)],
        ]),
        // The full name is looked up first, then the bare one.
        named("SELECT :x, $x", [
          ["x", v.int(1)],
          ["$x", v.int(2)],
        ]),
        named("SELECT $a::b, $f(x)", [
          ["a::b", v.int(7)],
          ["$f(x)", v.int(8)],
        ]),
      ]);
      expect(ok(body.results[0]).result.rows).toEqual([[v.int(1), v.int(3), v.int(2)]]);
      expect(ok(body.results[1]).result.rows).toEqual([[v.int(1), v.int(2), v.int(3), v.int(1)]]);
      expect(ok(body.results[2]).result.rows).toEqual([[v.int(1), v.int(2)]]);
      expect(ok(body.results[3]).result.rows).toEqual([[v.int(7), v.int(8)]]);
    });
  });

  test("ARGS_INVALID for too many or missing values, ARGS_BOTH_POSITIONAL_AND_NAMED for both", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("SELECT ?", [v.int(1), v.int(2)]),
        execute("SELECT ?, ?", [v.int(1)]),
        execute("SELECT :a", [v.int(1)]),
        { type: "execute", stmt: { sql: "SELECT :a", named_args: [{ name: "b", value: v.int(1) }] } },
        {
          type: "execute",
          stmt: { sql: "SELECT ?, :a", args: [v.int(1)], named_args: [{ name: "a", value: v.int(1) }] },
        },
        execute("EXPLAIN SELECT ?, ?", [v.int(1)]),
      ]);
      const errors = body.results.map((r) => r.error);
      expect(errors[0]).toEqual({
        message: "Arguments do not match SQL parameters: too many parameters, expected 1 found 2",
        code: "ARGS_INVALID",
      });
      expect(errors[1]).toEqual({
        message: "Arguments do not match SQL parameters: value for parameter 2 not found",
        code: "ARGS_INVALID",
      });
      expect(errors[2]).toMatchObject({ code: "ARGS_INVALID", message: expect.stringContaining(":a not found") });
      expect(errors[3]).toMatchObject({ code: "ARGS_INVALID" });
      expect(errors[4]).toEqual({
        message: "Specifying both positional and named arguments is not supported",
        code: "ARGS_BOTH_POSITIONAL_AND_NAMED",
      });
      // EXPLAIN never reads its parameters, so sqld stops binding instead of failing.
      expect(body.results[5].type).toBe("ok");
    });
  });
});

describe("statement errors", () => {
  test("codes follow sqld: statement count, parse, input, and primary SQLite codes", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"),
        execute("INSERT INTO t VALUES (1)"),
        execute("  -- nothing\n ; ;"),
        execute("SELECT 1; SELECT 2"),
        execute("SELECT 'unterminated"),
        execute("SELEC 1"),
        execute("SELECT * FROM missing"),
        execute("INSERT INTO t VALUES (1)"),
        execute("SELECT abs(-9223372036854775807 - 1)"),
        execute("SELECT 1; -- a trailing comment is fine"),
      ]);
      const errors = body.results.map((r) => r.error ?? null);
      expect(errors.slice(2, 9)).toEqual([
        { message: "SQL string does not contain any statement", code: "SQL_NO_STATEMENT" },
        { message: "SQL string contains more than one statement", code: "SQL_MANY_STATEMENTS" },
        { message: expect.stringMatching(/^SQL string could not be parsed: /), code: "SQL_PARSE_ERROR" },
        { message: 'SQL string could not be parsed: near "SELEC": syntax error', code: "SQL_PARSE_ERROR" },
        { message: "SQL input error: no such table: missing", code: "SQL_INPUT_ERROR" },
        { message: "SQLite error: UNIQUE constraint failed: t.id", code: "SQLITE_CONSTRAINT" },
        { message: "SQLite error: integer overflow", code: "SQLITE_UNKNOWN" },
      ]);
      expect(body.results[9].type).toBe("ok");
    });
  });
});

describe("batches", () => {
  test("conditions ok, error, not, and, or, is_autocommit; skipped steps are null", async () => {
    await withServer({}, async (server) => {
      const steps = [
        { stmt: stmt("SELECT 0") },
        { stmt: stmt("SELECT * FROM missing") },
        { condition: { type: "ok", step: 0 }, stmt: stmt("SELECT 'ok 0'") },
        { condition: { type: "ok", step: 1 }, stmt: stmt("SELECT 'ok 1'") },
        { condition: { type: "error", step: 1 }, stmt: stmt("SELECT 'error 1'") },
        { condition: { type: "not", cond: { type: "error", step: 0 } }, stmt: stmt("SELECT 'not error 0'") },
        {
          condition: {
            type: "and",
            conds: [
              { type: "ok", step: 0 },
              { type: "ok", step: 1 },
            ],
          },
          stmt: stmt("SELECT 'and'"),
        },
        {
          condition: {
            type: "or",
            conds: [
              { type: "ok", step: 0 },
              { type: "ok", step: 1 },
            ],
          },
          stmt: stmt("SELECT 'or'"),
        },
        { condition: { type: "is_autocommit" }, stmt: stmt("SELECT 'autocommit'") },
        // sqld keeps one "ran and succeeded" flag per step: `error` on a skipped step holds.
        { condition: { type: "error", step: 3 }, stmt: stmt("SELECT 'error of skipped 3'") },
      ];
      const body = await pipeline(server, null, [{ type: "batch", batch: { steps } }]);
      const { step_results, step_errors } = ok(body.results[0]).result;
      const texts = step_results.map((r: Json) => r?.rows[0][0].value ?? null);
      expect(texts).toEqual([
        "0",
        null,
        "ok 0",
        null,
        "error 1",
        "not error 0",
        null,
        "or",
        "autocommit",
        "error of skipped 3",
      ]);
      expect(step_errors[1]).toEqual({ message: "SQL input error: no such table: missing", code: "SQL_INPUT_ERROR" });
      expect(step_errors.filter((e: Json) => e !== null)).toHaveLength(1);
    });
  });

  test("a condition on the current or a later step is a 400, and no step runs", async () => {
    await withServer({}, async (server) => {
      for (const step of [1, 2, 5]) {
        const reply = await post(server, "/v2/pipeline", {
          requests: [
            execute("CREATE TABLE IF NOT EXISTS side_effect(x)"),
            {
              type: "batch",
              batch: {
                steps: [
                  { stmt: stmt("INSERT INTO side_effect VALUES (1)") },
                  { condition: { type: "not", cond: { type: "ok", step } }, stmt: stmt("SELECT 1") },
                ],
              },
            },
          ],
        });
        expect(reply.status).toBe(400);
        expect(reply.contentType).toBe("text/plain");
        expect(reply.text).toBe("Invalid reference to step in a batch condition");
      }
      // The CREATE before the bad batch committed on its own; the batch never ran.
      expect(server.db.prepare("SELECT count(*) FROM side_effect").raw(true).all()).toEqual([[0]]);
    });
  });

  test("a conversion error fails the whole batch before any step runs", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("CREATE TABLE c(x)"),
        {
          type: "batch",
          batch: {
            steps: [{ stmt: stmt("INSERT INTO c VALUES (1)") }, { stmt: stmt("INSERT INTO c VALUES (2) garbage") }],
          },
        },
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: stmt("INSERT INTO c VALUES (3)") },
              { stmt: { sql: "SELECT ?", args: [v.int(1)], named_args: [{ name: "a", value: v.int(1) }] } },
            ],
          },
        },
        // A table that only an earlier step creates is fine: only syntax is checked up front.
        {
          type: "batch",
          batch: { steps: [{ stmt: stmt("CREATE TABLE later(y)") }, { stmt: stmt("INSERT INTO later VALUES (1)") }] },
        },
        execute("SELECT count(*) FROM c"),
      ]);
      expect(body.results[1]).toMatchObject({ type: "error", error: { code: "SQL_PARSE_ERROR" } });
      expect(body.results[2]).toMatchObject({ type: "error", error: { code: "ARGS_BOTH_POSITIONAL_AND_NAMED" } });
      expect(ok(body.results[3]).result.step_errors).toEqual([null, null]);
      expect(ok(body.results[4]).result.rows).toEqual([[v.int(0)]]);
    });
  });
});

describe("sequence and describe", () => {
  test("sequence runs statements in order and stops at the first failure", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        { type: "sequence", sql: "CREATE TABLE s(a UNIQUE); INSERT INTO s VALUES (1); INSERT INTO s VALUES ('x;y');" },
        { type: "sequence", sql: "INSERT INTO s VALUES (2); INSERT INTO s VALUES (1); INSERT INTO s VALUES (3)" },
        { type: "sequence", sql: "INSERT INTO s VALUES (4); INSERT INTO s VALUE (5)" },
        { type: "sequence", sql: "" },
        execute("SELECT a FROM s ORDER BY rowid"),
      ]);
      expect(body.results[0]).toEqual({ type: "ok", response: { type: "sequence" } });
      expect(body.results[1]).toMatchObject({ type: "error", error: { code: "SQLITE_CONSTRAINT" } });
      // A syntax error anywhere fails the sequence before it starts, as sqld's parser does.
      expect(body.results[2]).toMatchObject({ type: "error", error: { code: "SQL_PARSE_ERROR" } });
      expect(body.results[3]).toEqual({ type: "ok", response: { type: "sequence" } });
      expect(ok(body.results[4]).result.rows).toEqual([[v.int(1)], [v.text("x;y")], [v.int(2)]]);
    });
  });

  test("describe reports parameters, columns with decltype, EXPLAIN and read-only", async () => {
    await withServer({}, async (server) => {
      const body = await pipeline(server, null, [
        execute("CREATE TABLE d(id INTEGER PRIMARY KEY, name VARCHAR(10), data)"),
        { type: "describe", sql: "SELECT id, name AS n, data, ? FROM d WHERE id = :id OR name = ?4 OR data = $d" },
        { type: "describe", sql: "INSERT INTO d(name) VALUES (?)" },
        { type: "describe", sql: "EXPLAIN QUERY PLAN SELECT * FROM d" },
        { type: "describe", sql: "BEGIN" },
        { type: "describe", sql: "BEGIN IMMEDIATE" },
        { type: "describe", sql: "SELECT * FROM missing" },
      ]);
      expect(ok(body.results[1]).result).toEqual({
        params: [{ name: null }, { name: ":id" }, { name: null }, { name: "?4" }, { name: "$d" }],
        cols: [
          { name: "id", decltype: "INTEGER" },
          { name: "n", decltype: "VARCHAR(10)" },
          { name: "data", decltype: null },
          { name: "?", decltype: null },
        ],
        is_explain: false,
        is_readonly: true,
      });
      expect(ok(body.results[2]).result).toMatchObject({ params: [{ name: null }], is_readonly: false });
      expect(ok(body.results[3]).result).toMatchObject({ is_explain: true, is_readonly: true });
      expect(ok(body.results[4]).result).toMatchObject({ is_readonly: true });
      expect(ok(body.results[5]).result).toMatchObject({ is_readonly: false });
      expect(body.results[6]).toMatchObject({ type: "error", error: { code: "SQL_INPUT_ERROR" } });
    });
  });
});

describe("stored SQL", () => {
  test("store_sql, sql_id in execute/batch/sequence/describe, close_sql", async () => {
    await withServer({}, async (server) => {
      const first = await pipeline(server, null, [
        { type: "store_sql", sql_id: 0, sql: "SELECT ?" },
        { type: "store_sql", sql_id: 7, sql: "CREATE TABLE IF NOT EXISTS z(a)" },
        { type: "execute", stmt: { sql_id: 0, args: [v.int(5)] } },
        { type: "batch", batch: { steps: [{ stmt: { sql_id: 0, args: [v.int(6)] } }] } },
        { type: "sequence", sql_id: 7 },
        { type: "describe", sql_id: 0 },
        { type: "close_sql", sql_id: 0 },
        { type: "close_sql", sql_id: 12345 },
      ]);
      expect(first.results.every((r) => r.type === "ok")).toBe(true);
      expect(ok(first.results[2]).result.rows).toEqual([[v.int(5)]]);
      expect(ok(first.results[3]).result.step_results[0].rows).toEqual([[v.int(6)]]);
      // Stored SQL lives with its stream: the closed id is gone, the other one is still there.
      const second = await pipeline(server, first.baton, [{ type: "execute", stmt: { sql_id: 7 } }]);
      expect(second.results[0].type).toBe("ok");
      const gone = await post(server, "/v2/pipeline", {
        baton: second.baton,
        requests: [{ type: "execute", stmt: { sql_id: 0 } }],
      });
      expect(gone.status).toBe(400);
      expect(gone.text).toBe("SQL text 0 not found");
    });
  });

  test("limits: 50 texts per stream, 5000 bytes per text, no reused id, sql xor sql_id", async () => {
    await withServer({}, async (server) => {
      const requests = Array.from({ length: 51 }, (_, i) => ({ type: "store_sql", sql_id: i, sql: "SELECT 1" }));
      requests.push({ type: "store_sql", sql_id: 100, sql: `SELECT '${"x".repeat(4990)}'` });
      const body = await pipeline(server, null, requests);
      expect(body.results.slice(0, 50).every((r) => r.type === "ok")).toBe(true);
      expect(body.results[50]).toEqual({
        type: "error",
        error: { message: "The server already stores 50 SQL texts, it cannot store more", code: "SQL_STORE_TOO_MANY" },
      });
      expect(body.results[51]).toMatchObject({ type: "error", error: { code: "SQL_STORE_TOO_MANY" } });

      const large = await pipeline(server, null, [
        { type: "store_sql", sql_id: 1, sql: `SELECT '${"é".repeat(2496)}'` },
        { type: "store_sql", sql_id: 2, sql: `SELECT '${"x".repeat(4991)}'` },
      ]);
      expect(large.results[0]).toEqual({
        type: "error",
        error: { message: "The statement is too large to be stored: 5.0 KB/5.0 KB", code: "SQL_STORE_TOO_LARGE" },
      });
      expect(large.results[1].type).toBe("ok");

      for (const requests of [
        [
          { type: "store_sql", sql_id: 1, sql: "SELECT 1" },
          { type: "store_sql", sql_id: 1, sql: "SELECT 2" },
        ],
        [{ type: "execute", stmt: { sql: "SELECT 1", sql_id: 1 } }],
        [{ type: "execute", stmt: {} }],
      ]) {
        const reply = await post(server, "/v2/pipeline", { requests });
        expect(reply.status).toBe(400);
      }
    });
  });
});

describe("streams and batons", () => {
  test("every response carries a new baton; an old one is refused, and so is a forged one", async () => {
    await withServer({}, async (server) => {
      const first = await pipeline(server, null, [execute("SELECT 1")]);
      expect(first.baton).toMatch(/^[A-Za-z0-9+/]{64}$/);
      const second = await pipeline(server, first.baton, [execute("SELECT 2")]);
      expect(second.baton).not.toBe(first.baton);

      const reused = await post(server, "/v2/pipeline", { baton: first.baton, requests: [] });
      expect(reused.status).toBe(400);
      expect(reused.contentType).toBe("text/plain");
      expect(reused.text).toBe("Received a baton that has already been used");

      // Reusing a baton is a protocol error raised before the stream is taken: the stream lives on.
      const third = await pipeline(server, second.baton, [execute("SELECT 3")]);
      const raw = Buffer.from(third.baton as string, "base64");
      raw[3] = (raw[3] as number) ^ 1;
      for (const baton of [raw.toString("base64").replace(/=+$/, ""), "not a baton", `${third.baton}=`, ""]) {
        const forged = await post(server, "/v2/pipeline", { baton, requests: [] });
        expect(forged.status).toBe(400);
        expect(forged.text).toBe("Received an invalid baton");
      }
      const closed = await pipeline(server, third.baton, [{ type: "close" }]);
      expect(closed.baton).toBeNull();
      expect(server.streamCount).toBe(0);
    });
  });

  test("requests on one stream are strictly serial: a baton is refused while its request runs", async () => {
    await withServer({}, async (server) => {
      const holder = await pipeline(server, null, [execute("CREATE TABLE s(x)"), execute("BEGIN IMMEDIATE")]);
      const stream = await pipeline(server, null, [execute("SELECT 1")]);
      // This request holds `stream` while it waits for the holder's write lock.
      const waiting = pipeline(server, stream.baton, [execute("INSERT INTO s VALUES (1)")]);
      await delay(100);
      const concurrent = await post(server, "/v2/pipeline", { baton: stream.baton, requests: [execute("SELECT 2")] });
      expect(concurrent.status).toBe(400);
      expect(concurrent.text).toBe("Received a baton that has already been used");
      await pipeline(server, holder.baton, [execute("COMMIT")]);
      const done = await waiting;
      expect(done.results[0].type).toBe("ok");
      expect((await pipeline(server, done.baton, [execute("SELECT count(*) FROM s")])).results[0]).toMatchObject({
        response: { result: { rows: [[v.int(1)]] } },
      });
    });
  });

  test("requests after close in the same pipeline are a 400", async () => {
    await withServer({}, async (server) => {
      const reply = await post(server, "/v2/pipeline", { requests: [{ type: "close" }, execute("SELECT 1")] });
      expect(reply.status).toBe(400);
      expect(reply.text).toBe("Stream for this baton was closed");
    });
  });

  test("a protocol error inside a held stream discards it and rolls its transaction back", async () => {
    await withServer({}, async (server) => {
      const open = await pipeline(server, null, [
        execute("CREATE TABLE p(x)"),
        execute("BEGIN"),
        execute("INSERT INTO p VALUES (1)"),
      ]);
      const broken = await post(server, "/v2/pipeline", {
        baton: open.baton,
        requests: [execute("INSERT INTO p VALUES (2)"), { type: "execute", stmt: { sql_id: 99 } }],
      });
      expect(broken.status).toBe(400);
      expect(broken.text).toBe("SQL text 99 not found");
      await delay(20);
      expect(server.streamCount).toBe(0);
      expect(server.db.prepare("SELECT count(*) FROM p").raw(true).all()).toEqual([[0]]);
      const after = await post(server, "/v2/pipeline", { baton: open.baton, requests: [] });
      expect(after.text).toBe("Received an invalid baton");
    });
  });

  test("an idle stream expires: STREAM_EXPIRED as JSON, and its transaction is rolled back", async () => {
    await withServer({ streamIdleMs: 400 }, async (server) => {
      const open = await pipeline(server, null, [
        execute("CREATE TABLE e(x)"),
        execute("BEGIN"),
        execute("INSERT INTO e VALUES (1)"),
      ]);
      const kept = await pipeline(server, null, [execute("SELECT 1")]);
      // A stream that keeps being used does not expire.
      let baton = kept.baton;
      for (let i = 0; i < 5; i++) {
        await delay(100);
        baton = (await pipeline(server, baton, [execute("SELECT 1")])).baton;
      }
      const expired = await post(server, "/v2/pipeline", { baton: open.baton, requests: [] });
      expect(expired.status).toBe(400);
      expect(expired.contentType).toBe("application/json");
      expect(expired.json).toEqual({ message: "The stream has expired due to inactivity", code: "STREAM_EXPIRED" });
      expect(server.db.prepare("SELECT count(*) FROM e").raw(true).all()).toEqual([[0]]);
      // Its write lock went with it.
      const write = await pipeline(server, baton, [execute("INSERT INTO e VALUES (2)")]);
      expect(write.results[0].type).toBe("ok");
    });
  });

  test("after the memory of expired streams lapses, their batons are just invalid", async () => {
    await withServer({ streamIdleMs: 50, expiredStreamMemoryMs: 100 }, async (server) => {
      const open = await pipeline(server, null, [execute("SELECT 1")]);
      await delay(400);
      const reply = await post(server, "/v2/pipeline", { baton: open.baton, requests: [] });
      expect(reply.status).toBe(400);
      expect(reply.text).toBe("Received an invalid baton");
    });
  });

  test("malformed bodies are 400 text/plain", async () => {
    await withServer({}, async (server) => {
      for (const body of [
        "{not json",
        { requests: "nope" },
        { requests: [{ type: "explode" }] },
        { requests: [execute("SELECT ?", [{ type: "integer", value: 1 }])] },
        { requests: [execute("SELECT ?", [{ type: "integer", value: "99999999999999999999" }])] },
        { requests: [execute("SELECT ?", [{ type: "blob", base64: "@@@" }])] },
        { requests: [execute("SELECT ?", [{ type: "mystery" }])] },
        { baton: 5, requests: [] },
      ]) {
        const reply = await post(server, "/v3/pipeline", body);
        expect(reply.status).toBe(400);
        expect(reply.contentType).toBe("text/plain");
        expect(reply.text).toMatch(/^Cannot deserialize client message from JSON: /);
      }
    });
  });
});

describe("auth and CORS", () => {
  const TOKEN = "s3cret-token-value";

  test("401 without the right bearer token; the token is never echoed", async () => {
    await withServer({ authToken: TOKEN }, async (server) => {
      const body = { requests: [execute("SELECT 1")] };
      const cases: [Record<string, string>, string][] = [
        [{}, "Unauthorized: The `Authorization` HTTP header is required but was not specified"],
        [{ authorization: "Bearer wrong" }, "Unauthorized: The JWT is invalid"],
        [{ authorization: `Bearer ${TOKEN}x` }, "Unauthorized: The JWT is invalid"],
        [{ authorization: `Basic ${TOKEN}` }, expect.stringContaining("scheme") as unknown as string],
        [{ authorization: TOKEN }, "Unauthorized: The `Authorization` HTTP header has invalid value"],
      ];
      for (const [headers, error] of cases) {
        const reply = await post(server, "/v2/pipeline", body, headers);
        expect(reply.status).toBe(401);
        expect(reply.contentType).toBe("application/json");
        expect(reply.json).toEqual({ error });
        expect(reply.text).not.toContain(TOKEN);
        expect([...reply.headers.values()].join(" ")).not.toContain(TOKEN);
      }
      for (const scheme of ["Bearer", "bearer", "BEARER"]) {
        const reply = await post(server, "/v3/pipeline", body, { authorization: `${scheme} ${TOKEN}` });
        expect(reply.status).toBe(200);
      }
      expect((await fetch(`${server.url}/v3`)).status).toBe(200);
      const cursor = await fetch(`${server.url}/v3/cursor`, { method: "POST", body: "{}" });
      expect(cursor.status).toBe(401);
    });
  });

  test("CORS preflights are answered without auth and responses allow any origin", async () => {
    await withServer({ authToken: TOKEN }, async (server) => {
      const preflight = await fetch(`${server.url}/v2/pipeline`, {
        method: "OPTIONS",
        headers: {
          origin: "http://example.test",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
      expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
      expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
      const denied = await post(server, "/v2/pipeline", { requests: [] }, { origin: "http://example.test" });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("access-control-allow-origin")).toBe("*");
      const allowed = await post(server, "/v2/pipeline", { requests: [] }, { authorization: `Bearer ${TOKEN}` });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("*");
    });
  });
});

describe("request log", () => {
  test("counts requests by path, with their status", async () => {
    const seen: string[] = [];
    await withServer({ onRequest: ({ method, path }) => seen.push(`${method} ${path}`) }, async (server) => {
      await fetch(`${server.url}/v2`);
      await pipeline(server, null, [execute("SELECT 1")]);
      await pipeline(server, null, [execute("SELECT 1")], { version: 3 });
      expect(server.requests.count()).toBe(3);
      expect(server.requests.count("/v2/pipeline")).toBe(1);
      expect(server.requests.count(/pipeline$/)).toBe(2);
      expect(server.requests.entries.map((r) => r.status)).toEqual([200, 200, 200]);
      server.requests.clear();
      expect(server.requests.count()).toBe(0);
    });
    expect(seen).toEqual(["GET /v2", "POST /v2/pipeline", "POST /v3/pipeline"]);
  });
});
