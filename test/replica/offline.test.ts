import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { ConflictResolution, SyncConflict } from "../../src/replica/replica-api.js";
import { SyncConflictError } from "../../src/replica/replica-errors.js";
import { expectLibsqlError } from "../support/expect-error.js";
import { expectInSync, readMeta, switchableFetch, withRig } from "./helpers.js";

const TOKEN = "offline-token";

function count(rows: { n?: unknown }[]): unknown {
  return rows[0]?.n;
}

describe("offline writes", () => {
  test("apply locally at once and are pushed as one transaction by the next sync", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica, path }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO t(v) VALUES ('a'), ('b'), ('c')");
      const client = replica({ offline: true });
      await client.sync();
      server.requests.clear();

      await client.execute("INSERT INTO t(v) VALUES ('d')");
      await client.execute("UPDATE t SET v = 'B' WHERE id = 2");
      await client.batch(["DELETE FROM t WHERE id = 1", "INSERT INTO t(id, v) VALUES (10, 'ten')"], "write");
      await client.transaction("write", async (tx) => {
        await tx.execute("INSERT INTO t(id, v) VALUES (20, 'twenty')");
      });
      const rolledBack = await client.transaction("write");
      await rolledBack.execute("INSERT INTO t(id, v) VALUES (30, 'never')");
      await rolledBack.rollback();

      expect((await client.execute("SELECT id, v FROM t ORDER BY id")).rows.map((r) => [r.id, r.v])).toEqual([
        [2, "B"],
        [3, "c"],
        [4, "d"],
        [10, "ten"],
        [20, "twenty"],
      ]);
      expect(server.requests.count()).toBe(0);
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([3]);
      // Four write calls: two statements, a batch, a committed transaction (the rolled back one does not count).
      expect(client.replica.state().pendingWrites).toBe(4);
      expect(existsSync(path("replica.db-offline"))).toBe(true);

      await client.sync();
      expect(client.replica.state().pendingWrites).toBe(0);
      expect(readMeta(path("replica.db"))?.dirty).toBe(false);
      await expectInSync(client, server);
      // One transaction on the primary: a single stream carried BEGIN ... COMMIT.
      expect(server.requests.count("/v3/pipeline")).toBeGreaterThan(0);
    });
  });

  test("survive a reload, and are pushed when the network returns", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE notes(id TEXT PRIMARY KEY, body TEXT, at REAL)");
      const net = switchableFetch();
      const first = replica({ offline: true, fetch: net.fetch });
      await first.sync();
      net.offline(true);
      await first.execute("INSERT INTO notes VALUES ('n1', 'written offline', 1.5)");
      await expectLibsqlError(first.sync(), "NETWORK_ERROR");
      expect(first.replica.state().lastError?.code).toBe("NETWORK_ERROR");
      first.close();

      const again = replica({ offline: true, fetch: net.fetch });
      expect((await again.execute("SELECT body FROM notes")).rows[0]?.body).toBe("written offline");
      expect(again.replica.state().pendingWrites).toBeGreaterThanOrEqual(1);
      await again.execute("UPDATE notes SET body = 'edited offline, after the reload'");
      await expectLibsqlError(again.sync(), "NETWORK_ERROR");
      net.offline(false);
      await again.sync();
      expect(server.db.prepare("SELECT id, body, at FROM notes").raw(true).all()).toEqual([
        ["n1", "edited offline, after the reload", 1.5],
      ]);
      expect(again.replica.state()).toMatchObject({ pendingWrites: 0, lastError: undefined });
      await expectInSync(again, server);
    });
  });

  test("a conflict goes to the callback with the row's data; 'discard' drops only that change", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INTEGER)");
      server.db.exec("INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2)");
      const conflicts: SyncConflict[] = [];
      const client = replica({
        offline: true,
        onConflict: (conflict): ConflictResolution => {
          conflicts.push(conflict);
          return "discard";
        },
      });
      await client.sync();
      await client.execute("UPDATE t SET v = 'mine' WHERE id = 1");
      await client.execute("INSERT INTO t VALUES (3, 'three', 3)");
      // Meanwhile someone else changed row 1 on the primary.
      server.db.exec("UPDATE t SET v = 'theirs' WHERE id = 1");
      await client.sync();
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({
        reason: "changed",
        table: "t",
        operation: "update",
        key: { id: 1n },
        before: { id: 1n, v: "one" },
        after: { v: "mine" },
        current: { id: 1n, v: "theirs", n: 1n },
      });
      expect(server.db.prepare("SELECT v FROM t ORDER BY id").raw(true).all()).toEqual([
        ["theirs"],
        ["two"],
        ["three"],
      ]);
      await expectInSync(client, server);
    });
  });

  test("without a callback a conflict keeps everything pending and the sync fails with SYNC_CONFLICT", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, email TEXT UNIQUE)");
      const client = replica({ offline: true });
      await client.sync();
      await client.execute("INSERT INTO t VALUES (1, 'same@example.com')");
      await client.execute("INSERT INTO t VALUES (2, 'other@example.com')");
      server.db.exec("INSERT INTO t VALUES (9, 'same@example.com')");
      const error = await expectLibsqlError(client.sync(), "SYNC_CONFLICT");
      expect(error).toBeInstanceOf(SyncConflictError);
      const [conflict] = (error as SyncConflictError).conflicts;
      expect(conflict).toMatchObject({ reason: "constraint", operation: "insert", key: { id: 1n } });
      expect(conflict?.error?.code).toBe("SQLITE_CONSTRAINT");
      // Nothing was pushed, nothing was dropped.
      expect(server.db.prepare("SELECT id FROM t ORDER BY id").raw(true).all()).toEqual([[9]]);
      expect(client.replica.state().pendingWrites).toBe(2);
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(2);
      // The app fixes the data locally; the next sync goes through.
      await client.execute("UPDATE t SET email = 'fixed@example.com' WHERE id = 1");
      await client.sync();
      expect(server.db.prepare("SELECT id, email FROM t ORDER BY id").raw(true).all()).toEqual([
        [1, "fixed@example.com"],
        [2, "other@example.com"],
        [9, "same@example.com"],
      ]);
      await expectInSync(client, server);
    });
  });

  test("'overwrite' pushes the local values, and a row deleted on the primary is 'missing'", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
      const reasons: string[] = [];
      const client = replica({
        offline: true,
        onConflict: (conflict) => {
          reasons.push(`${conflict.reason}:${String(conflict.key.id)}`);
          return "overwrite";
        },
      });
      await client.sync();
      await client.execute("UPDATE t SET v = 'mine' WHERE id IN (1, 2)");
      server.db.exec("UPDATE t SET v = 'theirs' WHERE id = 1");
      server.db.exec("DELETE FROM t WHERE id = 2");
      await client.sync();
      expect(reasons.sort()).toEqual(["changed:1", "missing:2"]);
      expect(server.db.prepare("SELECT id, v FROM t").raw(true).all()).toEqual([[1, "mine"]]);
      await expectInSync(client, server);
    });
  });

  test("a change the primary already has is not a conflict (a push repeated after a lost answer)", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      const client = replica({ offline: true, onConflict: () => expect.fail("no conflict expected") });
      await client.sync();
      await client.execute("INSERT INTO t VALUES (1, 'same')");
      server.db.exec("INSERT INTO t VALUES (1, 'same')");
      await client.sync();
      expect(client.replica.state().pendingWrites).toBe(0);
      await expectInSync(client, server);
    });
  });

  test("writes offline changes cannot carry are refused: schema changes, tables without a primary key", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE keyed(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("CREATE TABLE loose(v TEXT)");
      const client = replica({ offline: true });
      await client.sync();
      await expectLibsqlError(client.execute("INSERT INTO loose VALUES ('x')"), {
        code: "OFFLINE_WRITE_REFUSED",
        message: /"loose"/,
      });
      await expectLibsqlError(client.execute("CREATE TABLE z(a)"), {
        code: "OFFLINE_WRITE_REFUSED",
        message: /schema/,
      });
      await expectLibsqlError(client.execute("PRAGMA user_version = 3"), "OFFLINE_WRITE_REFUSED");
      // Reads of those tables, and writes to keyed ones, still work.
      expect((await client.execute("SELECT count(*) AS n FROM loose")).rows[0]?.n).toBe(0);
      await client.execute("INSERT INTO keyed(v) VALUES ('fine')");
      await client.sync();
      expect(server.db.prepare("SELECT v FROM keyed").raw(true).all()).toEqual([["fine"]]);
      expect(server.db.prepare("SELECT count(*) FROM loose").raw(true).get()).toEqual([0]);
    });
  });

  test("online writes fall back to offline when the primary is unreachable, if the app opted in", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      const net = switchableFetch();
      const client = replica({ fetch: net.fetch, offlineWhenUnreachable: true });
      const strict = replica({ name: "strict.db", fetch: net.fetch });
      await client.sync();
      await strict.sync();
      net.offline(true);
      await expectLibsqlError(strict.execute("INSERT INTO t(v) VALUES ('lost')"), "NETWORK_ERROR");
      await client.execute("INSERT INTO t(v) VALUES ('kept locally')");
      await client.transaction("write", async (tx) => {
        await tx.execute("INSERT INTO t(v) VALUES ('in a transaction')");
      });
      expect(count((await client.execute("SELECT count(*) AS n FROM t")).rows as { n?: unknown }[])).toBe(2);
      expect(client.replica.state().pendingWrites).toBe(2);
      net.offline(false);
      await client.sync();
      expect(server.db.prepare("SELECT v FROM t ORDER BY id").raw(true).all()).toEqual([
        ["kept locally"],
        ["in a transaction"],
      ]);
      // Back online: writes go to the primary again.
      await client.execute("INSERT INTO t(v) VALUES ('online again')");
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([3]);
      await expectInSync(client, server);
    });
  });
});
