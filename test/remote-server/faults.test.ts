import { createClient, LibsqlError } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { cursor, execute, ok, pipeline, post, stmt, v, withServer } from "./helpers.js";

/** Each fault hook does what it says, and nothing else. */

describe("fault hooks", () => {
  test("failNext(n) answers the next n requests with 500, then the server recovers", async () => {
    await withServer({}, async (server) => {
      server.faults.failNext(2);
      for (let i = 0; i < 2; i++) {
        const reply = await post(server, "/v2/pipeline", { requests: [execute("CREATE TABLE IF NOT EXISTS f(x)")] });
        expect(reply.status).toBe(500);
        expect(reply.json).toEqual({ error: "Internal Error: injected fault" });
      }
      // Nothing ran: the failed requests never reached the database.
      expect(server.db.prepare("SELECT count(*) FROM sqlite_schema").raw(true).all()).toEqual([[0]]);
      expect((await pipeline(server, null, [execute("SELECT 1")])).results[0].type).toBe("ok");

      // The official client reports it as SERVER_ERROR; a path filter spares other paths.
      server.faults.failNext(1, { path: "/v2/pipeline", status: 503 });
      expect((await fetch(`${server.url}/v2`)).status).toBe(200);
      const client = createClient({ url: server.url });
      try {
        const error = await client.execute("SELECT 1").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LibsqlError);
        expect((error as LibsqlError).code).toBe("SERVER_ERROR");
        expect((error as LibsqlError).message).toContain("503");
        expect((await client.execute("SELECT 1")).rows.length).toBe(1);
      } finally {
        client.close();
      }
    });
  });

  test("delay(ms) makes a slow server, for a count of requests or until cleared", async () => {
    await withServer({}, async (server) => {
      server.faults.delay(800, { count: 1 });
      let started = performance.now();
      await pipeline(server, null, [execute("SELECT 1")]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(790);
      started = performance.now();
      await pipeline(server, null, [execute("SELECT 1")]);
      expect(performance.now() - started).toBeLessThan(700);

      // A client that gives up early sees its own timeout.
      server.faults.delay(2000);
      const timedOut = await fetch(`${server.url}/v2`, { signal: AbortSignal.timeout(100) }).catch((e: Error) => e);
      expect(timedOut).toBeInstanceOf(Error);
      expect((timedOut as Error).name).toBe("TimeoutError");
      server.faults.delay(0);
      started = performance.now();
      expect((await fetch(`${server.url}/v2`)).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(700);
    });
  });

  test("cutNextCursor(k) destroys the socket after k entries", async () => {
    await withServer({}, async (server) => {
      const body = {
        baton: null,
        batch: {
          steps: [
            { stmt: stmt("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3") },
            { stmt: stmt("SELECT 'second step'") },
          ],
        },
      };
      server.faults.cutNextCursor(3);
      const cut = await cursor(server, body);
      expect(cut.status).toBe(200);
      expect(cut.cut).toBe(true);
      expect(cut.header).toMatchObject({ baton: expect.any(String) });
      expect(cut.entries).toEqual([
        { type: "step_begin", step: 0, cols: [{ name: "1", decltype: null }] },
        { type: "row", row: [v.int(1)] },
        { type: "row", row: [v.int(2)] },
      ]);
      // One-shot, and the stream it cut is still usable, like sqld's after a dropped cursor.
      const whole = await cursor(server, { ...body, baton: cut.header.baton });
      expect(whole.cut).toBe(false);
      expect(whole.entries.at(-1)).toEqual({ type: "replication_index", replication_index: null });

      server.faults.cutNextCursor(0);
      const headerOnly = await cursor(server, body);
      expect(headerOnly.cut).toBe(true);
      expect(headerOnly.header).toMatchObject({ base_url: null });
      expect(headerOnly.entries).toEqual([]);
    });
  });

  test("expireAllStreams() expires every idle stream now", async () => {
    await withServer({}, async (server) => {
      const a = await pipeline(server, null, [
        execute("CREATE TABLE x(a)"),
        execute("BEGIN"),
        execute("INSERT INTO x VALUES (1)"),
      ]);
      const b = await pipeline(server, null, [execute("SELECT 1")]);
      expect(server.streamCount).toBe(2);
      server.faults.expireAllStreams();
      expect(server.streamCount).toBe(0);
      for (const baton of [a.baton, b.baton]) {
        const reply = await post(server, "/v2/pipeline", { baton, requests: [] });
        expect(reply.status).toBe(400);
        expect(reply.json).toEqual({ message: "The stream has expired due to inactivity", code: "STREAM_EXPIRED" });
      }
      const after = await pipeline(server, null, [execute("SELECT count(*) FROM x")]);
      expect(ok(after.results[0]).result.rows).toEqual([[v.int(0)]]);
    });
  });

  test("restart() keeps the port and the data, rolls back open transactions, invalidates batons", async () => {
    await withServer({}, async (server) => {
      const { port } = server;
      await pipeline(server, null, [execute("CREATE TABLE r(a)"), execute("INSERT INTO r VALUES ('kept')")]);
      const open = await pipeline(server, null, [execute("BEGIN"), execute("INSERT INTO r VALUES ('lost')")]);
      const client = createClient({ url: server.url });
      try {
        await server.restart();
        expect(server.port).toBe(port);
        const reply = await post(server, "/v2/pipeline", { baton: open.baton, requests: [] });
        expect(reply.status).toBe(400);
        expect(reply.text).toBe("Received an invalid baton");
        expect((await client.execute("SELECT a FROM r")).rows.map((r) => r.a)).toEqual(["kept"]);
        expect(server.db.prepare("SELECT count(*) FROM r").raw(true).all()).toEqual([[1]]);
        await client.execute("INSERT INTO r VALUES ('after')");
        expect(server.db.prepare("SELECT count(*) FROM r").raw(true).all()).toEqual([[2]]);
      } finally {
        client.close();
      }
    });
  });

  test("reset() clears pending faults", async () => {
    await withServer({}, async (server) => {
      server.faults.failNext(5);
      server.faults.delay(5000);
      server.faults.cutNextCursor(0);
      server.faults.reset();
      expect((await pipeline(server, null, [execute("SELECT 1")])).results[0].type).toBe("ok");
      expect((await cursor(server, { batch: { steps: [{ stmt: stmt("SELECT 1") }] } })).cut).toBe(false);
    });
  });
});
