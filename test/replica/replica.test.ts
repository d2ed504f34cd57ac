import { writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createClient } from "../../src/node.js";
import type { ReplicaEvent, SyncProgress } from "../../src/replica/replica-api.js";
import { expectLibsqlError } from "../support/expect-error.js";
import { expectInSync, expectSameFile, readMeta, withRig } from "./helpers.js";

const TOKEN = "replica-token";

describe("embedded replica (Node)", () => {
  test("bootstraps, then pulls only new frames", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB, r REAL)");
      server.db.exec(
        "INSERT INTO t(v, b, r) SELECT 'row ' || value, randomblob(300), value / 7.0 FROM generate_series(1, 400)",
      );
      const progress: SyncProgress[] = [];
      const client = replica({ onSyncProgress: (p) => progress.push(p) });
      const first = await client.sync();
      await expectInSync(client, server);
      expect(first?.frame_no).toBe(sync.history.frameCount);
      expect(first?.frames_synced).toBe(sync.history.frameCount);
      expect(progress.some((p) => p.phase === "bootstrap")).toBe(true);

      server.db.exec("UPDATE t SET v = 'changed' WHERE id = 7");
      server.db.exec("INSERT INTO t(v) VALUES ('new')");
      const before = sync.history.frameCount;
      progress.length = 0;
      server.requests.clear();
      const second = await client.sync();
      const added = sync.history.frameCount - before;
      expect(second).toEqual({ frame_no: sync.history.frameCount, frames_synced: added });
      // Only the new frames travelled: the pull asked from the next frame, and the bytes are theirs.
      expect(server.requests.entries.filter((r) => r.path.startsWith("/sync/"))[0]?.path).toBe(
        `/sync/1/${before + 1}/${before + 1025}`,
      );
      const pulled = progress.filter((p) => p.phase === "pull").at(-1);
      expect(pulled?.bytesDone).toBe(added * 4120);
      expect(pulled?.framesDone).toBe(added);
      await expectInSync(client, server);

      server.requests.clear();
      expect(await client.sync()).toEqual({ frame_no: sync.history.frameCount, frames_synced: 0 });
      expect(server.requests.count(/^\/sync\//)).toBe(1);
    });
  });

  test("stays byte-identical to the primary through schema changes, deletes, VACUUM and generations", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, replica, path }) => {
      const client = replica();
      server.db.exec("CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO a(v) SELECT hex(randomblob(200)) FROM generate_series(1, 3000)");
      await client.sync();
      server.db.exec("CREATE INDEX a_v ON a(v)");
      server.db.exec("CREATE TABLE b(k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID");
      server.db.exec("INSERT INTO b SELECT 'k' || value, value FROM generate_series(1, 500)");
      await client.sync();
      await expectInSync(client, server);
      server.db.exec("DELETE FROM a WHERE id > 200");
      server.db.exec("DROP INDEX a_v");
      server.db.exec("VACUUM");
      await client.sync();
      await expectInSync(client, server);
      expect(sync.checkpoint()).toBe(2);
      await client.sync();
      expectSameFile(path("replica.db"), server.dbPath);
      server.db.exec("ALTER TABLE b ADD COLUMN extra BLOB DEFAULT x'beef'");
      server.db.exec("UPDATE b SET extra = randomblob(3000) WHERE n % 10 = 0");
      await client.sync();
      await expectInSync(client, server);
      sync.checkpoint();
      await client.sync();
      expectSameFile(path("replica.db"), server.dbPath);
      expect(client.replica.state()).toMatchObject({ generation: 3, frameNo: 0 });
    });
  });

  test("walks generations one at a time, and a new replica bootstraps from the current one", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      const client = replica();
      await client.sync();
      for (let g = 1; g <= 3; g++) {
        server.db.exec(`INSERT INTO t(v) VALUES ('before checkpoint ${g}')`);
        sync.checkpoint();
      }
      server.db.exec("INSERT INTO t(v) VALUES ('in generation 4')");
      server.requests.clear();
      const result = await client.sync();
      expect(result).toEqual({ frame_no: sync.history.frameCount, frames_synced: 4 });
      for (let g = 1; g <= 4; g++) expect(server.requests.count(new RegExp(`^/sync/${g}/`))).toBeGreaterThan(0);
      expect(client.replica.state().generation).toBe(4);
      await expectInSync(client, server);

      const fresh = replica({ name: "fresh.db" });
      await fresh.sync();
      expect(server.requests.count("/export/4")).toBe(1);
      await expectInSync(fresh, server);
    });
  });

  test("reads stay local, writes go to the primary, and read-your-writes pulls before the write returns", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      const client = replica();
      await client.sync();
      server.requests.clear();
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(0);
      const stmt = await client.prepare("SELECT v FROM t WHERE id = ?");
      expect(await stmt.get([1])).toBeUndefined();
      expect(server.requests.count()).toBe(0);

      const inserted = await client.execute({ sql: "INSERT INTO t(v) VALUES (?)", args: ["one"] });
      expect(inserted.rowsAffected).toBe(1);
      expect(inserted.lastInsertRowid).toBe(1n);
      expect((await stmt.get([1]))?.v).toBe("one");
      expect(server.db.prepare("SELECT v FROM t").raw(true).all()).toEqual([["one"]]);

      await client.batch(["INSERT INTO t(v) VALUES ('two')", "INSERT INTO t(v) VALUES ('three')"], "write");
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(3);
      await client.executeMultiple("INSERT INTO t(v) VALUES ('four'); INSERT INTO t(v) VALUES ('five');");
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(5);

      const writing = await client.prepare("INSERT INTO t(v) VALUES (?)");
      expect(writing.readonly).toBe(false);
      await writing.run(["six"]);
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(6);

      const returned: unknown[] = [];
      for await (const row of await client.cursor("INSERT INTO t(v) VALUES ('seven') RETURNING id"))
        returned.push(row.id);
      expect(returned).toEqual([7]);
      expect((await client.execute("SELECT v FROM t WHERE id = 7")).rows[0]?.v).toBe("seven");
      await expectInSync(client, server);
    });
  });

  test("transactions: read-only ones stay local, the others run on the primary and pull after COMMIT", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO t(v) VALUES ('a')");
      const client = replica();
      await client.sync();
      server.requests.clear();
      const n = await client.transaction(
        "read",
        async (tx) => (await tx.execute("SELECT count(*) AS n FROM t")).rows[0]?.n,
      );
      expect(n).toBe(1);
      expect(server.requests.count()).toBe(0);

      await client.transaction("write", async (tx) => {
        await tx.execute("INSERT INTO t(v) VALUES ('b')");
        // Inside the transaction reads see the primary's transaction.
        expect((await tx.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(2);
      });
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(2);

      const tx = await client.transaction("write");
      await tx.execute("INSERT INTO t(v) VALUES ('rolled back')");
      await tx.rollback();
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([2]);
      await expectInSync(client, server);
    });
  });

  test("readYourWrites: false leaves the pull to sync()", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(v)");
      const client = replica({ readYourWrites: false });
      await client.sync();
      await client.execute("INSERT INTO t VALUES (1)");
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(0);
      await client.sync();
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(1);
    });
  });

  test("a pull that fails after a committed write does not fail the write; the failure is reported", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(v)");
      const client = replica();
      await client.sync();
      const events: ReplicaEvent[] = [];
      client.replica.subscribe((event) => events.push(event));
      server.faults.failNext(1, { status: 403, path: /^\/sync\// });
      const result = await client.execute("INSERT INTO t VALUES ('kept')");
      expect(result.rowsAffected).toBe(1);
      expect(server.db.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([1]);
      expect(client.replica.state().lastError?.code).toBe("SERVER_ERROR");
      expect(events.some((e) => e.type === "sync-error")).toBe(true);
      // The next sync catches up and clears the error.
      await client.sync();
      expect(client.replica.state().lastError).toBeUndefined();
      await expectInSync(client, server);
    });
  });

  test("syncs on an interval", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(v)");
      const client = replica({ syncInterval: 0.1 });
      await client.sync();
      server.db.exec("INSERT INTO t VALUES ('pushed by someone else')");
      const deadline = Date.now() + 10_000;
      for (;;) {
        const n = (await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n;
        if (n === 1) break;
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(client.replica.state().lastSyncAt).toBeInstanceOf(Date);
    });
  });

  test("two replicas writing through the primary converge on the same data", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, replica }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT, n INTEGER)");
      const a = replica({ name: "a.db" });
      const b = replica({ name: "b.db" });
      await Promise.all([a.sync(), b.sync()]);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).execute({ sql: "INSERT INTO t(who, n) VALUES (?, ?)", args: [i % 2 ? "b" : "a", i] }),
        ),
      );
      await a.execute("UPDATE t SET n = n * 10 WHERE who = 'b'");
      await b.execute("DELETE FROM t WHERE n = 0");
      await Promise.all([a.sync(), b.sync()]);
      await expectInSync(a, server);
      await expectInSync(b, server);
      expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(19);
    });
  });

  test("state: generation, frame, last sync; it survives a reopen without a new bootstrap", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, replica, path }) => {
      server.db.exec("CREATE TABLE t(v)");
      const client = replica();
      expect(client.replica.state()).toMatchObject({ ready: false, generation: undefined, pendingWrites: 0 });
      await client.sync();
      const state = client.replica.state();
      expect(state).toMatchObject({ ready: true, generation: 1, frameNo: sync.history.frameCount, syncing: false });
      expect(state.lastSyncAt).toBeInstanceOf(Date);
      expect(readMeta(path("replica.db"))).toMatchObject({ generation: 1, frameNo: sync.history.frameCount });
      client.close();

      server.db.exec("INSERT INTO t VALUES (1)");
      server.requests.clear();
      const again = replica();
      expect(await again.sync()).toMatchObject({ frames_synced: 1 });
      expect(server.requests.count(/^\/export\//)).toBe(0);
      await expectInSync(again, server);
    });
  });

  test("a large pull reports how many frames to expect", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, replica }) => {
      server.db.exec("CREATE TABLE t(v)");
      const client = replica();
      await client.sync();
      server.db.exec("INSERT INTO t SELECT randomblob(3000) FROM generate_series(1, 1500)");
      const seen: SyncProgress[] = [];
      client.replica.subscribe((e) => {
        if (e.type === "progress") seen.push(e.progress);
      });
      const before = client.replica.state().frameNo ?? 0;
      await client.sync();
      const expected = sync.history.frameCount - before;
      const last = seen.filter((p) => p.phase === "pull").at(-1);
      expect(last).toMatchObject({ framesDone: expected, framesExpected: expected, bytesExpected: expected * 4120 });
      expect(last?.bytesDone).toBe(expected * 4120);
    });
  });

  test("refuses a database that exists without replica state", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, path }) => {
      const plain = createClient({ url: `file:${path("plain.db")}` });
      await plain.execute("CREATE TABLE mine(x)");
      plain.close();
      writeFileSync(path("note.txt"), "the database above is not a replica");
      const client = createClient({ url: `file:${path("plain.db")}`, syncUrl: server.url, authToken: TOKEN });
      try {
        await expectLibsqlError(client.execute("SELECT 1"), "REPLICA_STATE_INVALID");
      } finally {
        client.close();
      }
    });
  });
});
