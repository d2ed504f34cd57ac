import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import Libsql from "libsql";
import { describe, expect, test } from "vitest";
import type { Client } from "../../src/api.js";
import { rekeyDatabase } from "../../src/node.js";
import { expectLibsqlError } from "../support/expect-error.js";
import { expectInSync, type Rig, readMeta, switchableFetch, withRig } from "./helpers.js";
import { filesHolding, MARKER, spilling } from "./plaintext.js";

const TOKEN = "encrypted-replica-token";
const KEY = "replica-key-Xq7-not-in-any-file";

function pageCount(rig: Rig): number {
  return Number((rig.server.db.prepare("PRAGMA page_count").raw(true).get() as unknown[])[0]);
}

/** Rows of `t` as the primary has them. */
function primaryRows(rig: Rig): unknown[][] {
  return rig.server.db.prepare("SELECT id, v FROM t ORDER BY id").raw(true).all() as unknown[][];
}

/** Rows of `t` read by native libSQL from the replica's file, opened read-only with `key`. */
function nativeRows(path: string, key: string): unknown[][] {
  // The package's typings miss `encryptionKey`.
  const db = new Libsql(path, { encryptionKey: key, readonly: true } as Record<string, unknown>);
  try {
    expect(db.prepare("PRAGMA integrity_check").raw(true).all()).toEqual([["ok"]]);
    return db.prepare("SELECT id, v FROM t ORDER BY id").raw(true).all() as unknown[][];
  } finally {
    db.close();
  }
}

/** No file the replica wrote holds a row value or the key in clear. */
function expectNothingInClear(rig: Rig): void {
  expect(filesHolding(rig.dir, MARKER)).toEqual([]);
  expect(filesHolding(rig.dir, KEY)).toEqual([]);
  expect(filesHolding(rig.dir, KEY.slice(0, 12))).toEqual([]);
}

async function count(client: Client): Promise<unknown> {
  return (await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n;
}

describe("an encrypted embedded replica (Node)", () => {
  test("bootstraps, pulls page growth of every size and walks a generation, with nothing in clear", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const { server, sync, path } = rig;
      // Three pages: the bootstrap writes pages 2-3 (8192 bytes, which is also one page of 8192) before page 1.
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("CREATE TABLE other(id INTEGER PRIMARY KEY)");
      sync.checkpoint();
      expect(pageCount(rig)).toBe(3);
      const client = rig.replica({ encryptionKey: KEY });
      await client.sync();
      expect(server.requests.count("/export/2")).toBe(1);
      await expectInSync(client, server);

      // Growth past the end is written below SQLite: 1, 2, 3, 4, 8 and 16 pages at a time.
      for (const pages of [1, 2, 3, 4, 8, 16]) {
        const before = pageCount(rig);
        sync.history.capture();
        const start = sync.history.frameCount;
        server.db.prepare("INSERT INTO t(v) VALUES (?)").run(spilling(pages));
        expect(pageCount(rig) - before).toBe(pages);
        server.requests.clear();
        await client.sync();
        expect(server.requests.entries.find((r) => r.path.startsWith("/sync/"))?.path).toBe(
          `/sync/2/${start + 1}/${start + 1025}`,
        );
        await expectInSync(client, server);
      }

      // Updates of existing pages (sqlite_dbpage, through the journal), a shrink, then a new generation.
      server.db.exec(`INSERT INTO t(v) SELECT '${MARKER}-bulk-' || value FROM generate_series(1, 2000)`);
      await client.sync();
      server.db.exec(`UPDATE t SET v = v || '-updated' WHERE id % 3 = 0`);
      server.db.exec("DELETE FROM t WHERE id % 2 = 0");
      server.db.exec("VACUUM");
      await client.sync();
      await expectInSync(client, server);
      expect(sync.checkpoint()).toBe(3);
      server.db.exec(`INSERT INTO t(v) VALUES ('${MARKER}-generation-3')`);
      server.requests.clear();
      await client.sync();
      expect(server.requests.count(/^\/sync\/3\//)).toBeGreaterThan(0);
      expect(client.replica.state().generation).toBe(3);
      await expectInSync(client, server);

      expectNothingInClear(rig);
      // The scan does find clear text where there is some: in the primary's files.
      expect(filesHolding(dirname(server.dbPath), MARKER)).not.toEqual([]);
      const meta = readFileSync(`${path("replica.db")}-replica.json`, "utf8");
      // Numbers and flags only: no row, no key.
      expect(Object.values(JSON.parse(meta)).every((v) => ["number", "boolean"].includes(typeof v))).toBe(true);
      // Native libSQL reads the file with the same key and sees the primary's rows.
      expect(nativeRows(path("replica.db"), KEY)).toEqual(primaryRows(rig));
      // A new replica bootstraps from the current generation's export, many pages in one image.
      const fresh = rig.replica({ name: "fresh.db", encryptionKey: KEY });
      await fresh.sync();
      await expectInSync(fresh, server);
      expect(nativeRows(path("fresh.db"), KEY)).toEqual(primaryRows(rig));
      expectNothingInClear(rig);
    });
  });

  test("offline writes are encrypted in the working copy, survive a reload and are pushed on reconnection", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const { server, path } = rig;
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec(`INSERT INTO t(v) SELECT '${MARKER}-primary-' || value FROM generate_series(1, 300)`);
      const net = switchableFetch();
      const first = rig.replica({ encryptionKey: KEY, offline: true, fetch: net.fetch });
      await first.sync();
      net.offline(true);
      await first.execute(`INSERT INTO t(v) VALUES ('${MARKER}-offline-1')`);
      await first.batch([`UPDATE t SET v = '${MARKER}-offline-edit' WHERE id = 7`, "DELETE FROM t WHERE id = 8"]);
      await expectLibsqlError(first.sync(), "NETWORK_ERROR");
      first.close();

      expect(existsSync(path("replica.db-offline"))).toBe(true);
      expect(readMeta(path("replica.db"))).toMatchObject({ dirty: true });
      expectNothingInClear(rig);
      // The working copy is a database under the same key: native libSQL reads the offline rows from it.
      const offlineRows = nativeRows(path("replica.db-offline"), KEY);
      expect(offlineRows).toContainEqual([301, `${MARKER}-offline-1`]);
      expect(offlineRows).toContainEqual([7, `${MARKER}-offline-edit`]);

      const again = rig.replica({ encryptionKey: KEY, offline: true, fetch: net.fetch });
      expect(await count(again)).toBe(300);
      expect((await again.execute("SELECT v FROM t WHERE id = 301")).rows[0]?.v).toBe(`${MARKER}-offline-1`);
      await again.execute(`INSERT INTO t(v) VALUES ('${MARKER}-offline-after-reload')`);
      expect(again.replica.state().pendingWrites).toBeGreaterThanOrEqual(2);
      expectNothingInClear(rig);
      net.offline(false);
      await again.sync();
      expect(again.replica.state()).toMatchObject({ pendingWrites: 0, lastError: undefined });
      expect(server.db.prepare("SELECT v FROM t WHERE id IN (7, 8, 301, 302) ORDER BY id").raw(true).all()).toEqual([
        [`${MARKER}-offline-edit`],
        [`${MARKER}-offline-1`],
        [`${MARKER}-offline-after-reload`],
      ]);
      await expectInSync(again, server);
      expectNothingInClear(rig);
      expect(nativeRows(path("replica.db"), KEY)).toEqual(primaryRows(rig));
    });
  });

  test("a wrong or missing key is refused with its code, and the replica is left as it was", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const { server, path } = rig;
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec(`INSERT INTO t(v) VALUES ('${MARKER}')`);
      const client = rig.replica({ encryptionKey: KEY });
      await client.sync();
      // Closed for good: the process's engine no longer holds the database (and its key).
      await client[Symbol.asyncDispose]();
      const before = readFileSync(path("replica.db"));
      server.requests.clear();
      const wrong = rig.replica({ encryptionKey: `${KEY.slice(0, 20)}-wrong` });
      const error = await expectLibsqlError(wrong.sync(), {
        code: "SQLITE_NOTADB",
        extendedCode: "ENCRYPTION_KEY_WRONG",
      });
      expect(error.message).not.toContain(KEY);
      const missing = rig.replica();
      await expectLibsqlError(missing.execute("SELECT 1"), {
        code: "SQLITE_NOTADB",
        extendedCode: "ENCRYPTION_KEY_MISSING",
      });
      // Nothing was bootstrapped over the file.
      expect(server.requests.count(/^\/export\//)).toBe(0);
      expect(readFileSync(path("replica.db")).equals(before)).toBe(true);
      const right = rig.replica({ encryptionKey: KEY });
      expect(await count(right)).toBe(1);
    });
  });

  test("rekeyDatabase refuses a replica's copy (its rebuilt pages would not fit the primary's frames)", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      rig.server.db.exec("CREATE TABLE t(v); INSERT INTO t VALUES ('x')");
      const client = rig.replica({ encryptionKey: KEY });
      await client.sync();
      await client[Symbol.asyncDispose]();
      const before = readFileSync(rig.path("replica.db"));
      const url = `file:${rig.path("replica.db")}`;
      const error = await expectLibsqlError(
        rekeyDatabase({ url, encryptionKey: KEY }, { encryptionKey: "another key" }),
        {
          code: "REPLICA_REKEY_REFUSED",
        },
      );
      expect(error.message).not.toContain(KEY);
      expect(readFileSync(rig.path("replica.db")).equals(before)).toBe(true);
    });
  });

  test('encryptionFormat "authenticated" is refused for a replica with a coded error', async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      rig.server.db.exec("CREATE TABLE t(v)");
      rig.server.requests.clear();
      const client = rig.replica({ encryptionKey: KEY, encryptionFormat: "authenticated" });
      const error = await expectLibsqlError(client.sync(), {
        code: "ENCRYPTION_FORMAT_NOT_SUPPORTED",
        message: /authenticated.*replica/,
      });
      expect(error.message).not.toContain(KEY);
      expect(rig.server.requests.count()).toBe(0);
      expect(existsSync(rig.path("replica.db"))).toBe(false);
    });
  });
});
