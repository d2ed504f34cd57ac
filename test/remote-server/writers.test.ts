import { statSync } from "node:fs";
import { createClient } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { sendJson } from "../server/http-reply.js";
import { delay, execute, ok, pipeline, post, v, withServer } from "./helpers.js";

/** Concurrent writers, the WAL, and the extension points the replica work will use. */

describe("concurrent writers", () => {
  test("a second writer waits for the first stream's transaction without blocking the server", async () => {
    await withServer({}, async (server) => {
      const holder = await pipeline(server, null, [
        execute("CREATE TABLE w(x)"),
        execute("BEGIN IMMEDIATE"),
        execute("INSERT INTO w VALUES ('first')"),
      ]);
      let waiterDone = false;
      const waiter = pipeline(server, null, [execute("INSERT INTO w VALUES ('second')")]).then((body) => {
        waiterDone = true;
        return body;
      });
      await delay(200);
      expect(waiterDone).toBe(false);
      // The event loop is free: probes and readers are answered while the writer waits
      // (a blocked loop would answer nothing before the holder commits).
      expect((await fetch(`${server.url}/v2`)).status).toBe(200);
      const reader = await pipeline(server, null, [execute("SELECT count(*) FROM w")]);
      expect(waiterDone).toBe(false);
      expect(ok(reader.results[0]).result.rows).toEqual([[v.int(0)]]);

      await pipeline(server, holder.baton, [execute("COMMIT")]);
      const body = await waiter;
      expect(body.results[0].type).toBe("ok");
      expect(server.db.prepare("SELECT x FROM w ORDER BY rowid").raw(true).all()).toEqual([["first"], ["second"]]);
    });
  });

  test("past the busy timeout the waiting writer gets SQLITE_BUSY", async () => {
    await withServer({ busyTimeoutMs: 200 }, async (server) => {
      await pipeline(server, null, [execute("CREATE TABLE b(x)"), execute("BEGIN IMMEDIATE")]);
      const started = performance.now();
      const body = await pipeline(server, null, [execute("INSERT INTO b VALUES (1)"), execute("BEGIN IMMEDIATE")]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(380);
      for (const result of body.results) {
        expect(result).toEqual({
          type: "error",
          error: { message: "SQLite error: database is locked", code: "SQLITE_BUSY" },
        });
      }
    });
  });

  test("an idle holder's expiry lets the waiting writer through, rolling the holder back", async () => {
    await withServer({ streamIdleMs: 300 }, async (server) => {
      await pipeline(server, null, [
        execute("CREATE TABLE i(x)"),
        execute("BEGIN IMMEDIATE"),
        execute("INSERT INTO i VALUES ('holder')"),
      ]);
      const started = performance.now();
      const body = await pipeline(server, null, [execute("INSERT INTO i VALUES ('waiter')")]);
      expect(body.results[0].type).toBe("ok");
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(server.db.prepare("SELECT x FROM i").raw(true).all()).toEqual([["waiter"]]);
    });
  });

  test("the official client: a write outside an open write transaction waits for its commit", async () => {
    await withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE o(x)");
        const tx = await client.transaction("write");
        await tx.execute("INSERT INTO o VALUES ('in tx')");
        const outside = client.execute("INSERT INTO o VALUES ('outside')");
        await delay(100);
        await tx.commit();
        await outside;
        expect((await client.execute("SELECT x FROM o ORDER BY rowid")).rows.map((r) => r.x)).toEqual([
          "in tx",
          "outside",
        ]);
      } finally {
        client.close();
      }
    });
  });
});

describe("database file", () => {
  test("WAL mode, automatic checkpoints off on every connection: frames stay in the WAL", async () => {
    await withServer({}, async (server) => {
      expect(server.db.prepare("PRAGMA journal_mode").raw(true).all()).toEqual([["wal"]]);
      expect(server.db.prepare("PRAGMA wal_autocheckpoint").raw(true).all()).toEqual([[0]]);
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE big(b)");
        // About 100 pages per commit, 30 commits: far past the default 1000-page checkpoint.
        for (let i = 0; i < 30; i++) {
          await client.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO big SELECT zeroblob(4000) FROM n",
          );
        }
      } finally {
        client.close();
      }
      const frames = (statSync(`${server.dbPath}-wal`).size - 32) / (4096 + 24);
      // A checkpoint would have restarted the WAL from its start, keeping it near 1000 frames.
      expect(frames).toBeGreaterThan(2500);
      expect(statSync(server.dbPath).size).toBeLessThan(100 * 4096);
    });
  });

  test("a given database file is used and kept", async () => {
    const { mkdtempSync, rmSync, existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "hrana-file-"));
    try {
      const dbPath = join(dir, "given.db");
      await withServer({ dbPath }, async (server) => {
        expect(server.dbPath).toBe(dbPath);
        await pipeline(server, null, [execute("CREATE TABLE g(x)"), execute("INSERT INTO g VALUES (1)")]);
      });
      expect(existsSync(dbPath)).toBe(true);
      await withServer({ dbPath }, async (server) => {
        const body = await pipeline(server, null, [execute("SELECT x FROM g")]);
        expect(ok(body.results[0]).result.rows).toEqual([[v.int(1)]]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("extension points", () => {
  test("onCommit fires after requests that committed a write, not after reads", async () => {
    await withServer({}, async (server) => {
      let commits = 0;
      const off = server.onCommit(() => commits++);
      await pipeline(server, null, [execute("CREATE TABLE h(x)")]);
      expect(commits).toBe(1);
      await pipeline(server, null, [execute("SELECT * FROM h")]);
      expect(commits).toBe(1);
      const tx = await pipeline(server, null, [execute("BEGIN"), execute("INSERT INTO h VALUES (1)")]);
      expect(commits).toBe(1);
      await pipeline(server, tx.baton, [execute("COMMIT"), { type: "close" }]);
      expect(commits).toBe(2);
      off();
      await pipeline(server, null, [execute("INSERT INTO h VALUES (2)")]);
      expect(commits).toBe(2);
    });
  });

  test("route() adds endpoints with path parameters, behind auth unless told otherwise", async () => {
    await withServer({ authToken: "route-token" }, async (server) => {
      server.route("GET", "/sync/{generation}/{start}/{end}", ({ res, params }) => sendJson(res, 200, params));
      server.route(
        "GET",
        "/info",
        ({ res, server: s }) => {
          const [[pages]] = s.db.prepare("PRAGMA page_count").raw(true).all() as [[number]];
          sendJson(res, 200, { current_generation: 1, pages });
        },
        { auth: false },
      );
      const denied = await fetch(`${server.url}/sync/1/2/3`);
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${server.url}/sync/1/2/3`, { headers: { authorization: "Bearer route-token" } });
      expect(await allowed.json()).toEqual({ generation: "1", start: "2", end: "3" });
      const info = await fetch(`${server.url}/info`);
      expect(await info.json()).toMatchObject({ current_generation: 1 });
      expect((await post(server, "/info", {})).status).toBe(405);
    });
  });
});
