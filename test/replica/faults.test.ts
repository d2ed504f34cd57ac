import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { createClient } from "../../src/node.js";
import { expectLibsqlError } from "../support/expect-error.js";
import type { Rig } from "./helpers.js";
import { expectInSync, readMeta, withRig } from "./helpers.js";

const TOKEN = "faults-token";

/** A primary with `rows` rows of ~2 KB, written in transactions of 50 rows (so several frames each). */
function fill(rig: Rig, rows: number): void {
  rig.server.db.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)");
  for (let i = 0; i < rows; i += 50) {
    rig.server.db.exec(`INSERT INTO t(v) SELECT randomblob(2000) FROM generate_series(1, ${Math.min(50, rows - i)})`);
  }
}

/** The replica is intact and as far as its metadata says: integrity_check, then rows of whole transactions. */
async function expectIntact(rig: Rig, client: ReturnType<Rig["replica"]>): Promise<void> {
  const check = await client.execute("PRAGMA integrity_check");
  expect(check.rows.map((r) => r[0])).toEqual(["ok"]);
  const n = Number((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n ?? 0);
  expect(n % 50).toBe(0);
  expect(readMeta(rig.path("replica.db"))?.applyingTo).toBeUndefined();
}

describe("replica faults: each ends with an intact database, a correct state and a later successful sync", () => {
  test("the server dies mid-response on every attempt: what arrived whole is kept, the sync resumes later", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const client = rig.replica();
      await client.sync();
      fill(rig, 5000);
      // The first batch arrives; the second is cut off mid-body on each of its three attempts.
      for (let i = 0; i < 3; i++) rig.sync.faults.next({ kind: "cut", bytes: 100_000 }, { skip: i === 0 ? 1 : 0 });
      await expectLibsqlError(client.sync(), "NETWORK_ERROR");
      expect(client.replica.state().lastError?.code).toBe("NETWORK_ERROR");
      await expectIntact(rig, client);
      const kept = client.replica.state().frameNo ?? 0;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(rig.sync.history.frameCount);
      rig.server.requests.clear();
      await client.sync();
      // It resumed from the next frame, not from the start.
      expect(rig.server.requests.entries.find((r) => r.path.startsWith("/sync/"))?.path).toBe(
        `/sync/1/${kept + 1}/${kept + 1025}`,
      );
      await expectInSync(client, rig.server);
    });
  });

  test("the server restarts in the middle of a pull", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const client = rig.replica();
      await client.sync();
      fill(rig, 5000);
      rig.server.faults.delay(2000, { count: 1, path: /^\/sync\/1\/1025\// });
      const syncing = client.sync();
      await sleep(300);
      await rig.server.restart();
      await syncing;
      await expectInSync(client, rig.server);
    });
  });

  test("a damaged response is refused before anything is written", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const client = rig.replica();
      fill(rig, 100);
      await client.sync();
      const before = client.replica.state().frameNo;
      fill(rig, 200);
      rig.sync.faults.next({ kind: "corrupt" });
      await expectLibsqlError(client.sync(), { code: "SYNC_PROTOCOL_ERROR", message: /checksum/ });
      expect(client.replica.state().frameNo).toBe(before);
      await expectIntact(rig, client);
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(100);
      await client.sync();
      await expectInSync(client, rig.server);
    });
  });

  test("a truncated response, or frames naming page 0, are refused", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const client = rig.replica();
      fill(rig, 100);
      await client.sync();
      fill(rig, 100);
      rig.sync.faults.next({ kind: "truncate", bytes: 4120 * 3 + 17 });
      await expectLibsqlError(client.sync(), { code: "SYNC_PROTOCOL_ERROR", message: /whole number/ });
      rig.sync.faults.next({ kind: "bad-page-number" });
      await expectLibsqlError(client.sync(), "SYNC_PROTOCOL_ERROR");
      await expectIntact(rig, client);
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(100);
      await client.sync();
      await expectInSync(client, rig.server);
    });
  });

  test("a bootstrap cut short is started again by the next open", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      fill(rig, 300);
      rig.sync.checkpoint();
      rig.sync.faults.next({ kind: "truncate", bytes: 100_000 + 5 }, { path: "export" });
      const first = rig.replica();
      await expectLibsqlError(first.execute("SELECT 1"), "SQLITE_NOTADB");
      expect(readMeta(rig.path("replica.db"))).toMatchObject({ bootstrapping: true, generation: 2 });
      first.reconnect();
      await first.sync();
      await expectInSync(first, rig.server);
    });
  });

  test("a 401 fails the sync without touching the database; the next sync succeeds", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const client = rig.replica();
      fill(rig, 50);
      await client.sync();
      fill(rig, 50);
      rig.server.faults.failNext(1, { status: 401, path: /^\/sync\// });
      const error = await expectLibsqlError(client.sync(), { code: "SERVER_ERROR", message: /401/ });
      expect(error.message).not.toContain(TOKEN);
      await expectIntact(rig, client);
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(50);
      await client.sync();
      await expectInSync(client, rig.server);
    });
  });

  test("a wrong token fails the bootstrap with a 401 that does not show the token; 5xx answers are retried", async () => {
    await withRig({ authToken: TOKEN }, async (rig) => {
      const denied = createClient({
        url: `file:${rig.path("denied.db")}`,
        syncUrl: rig.server.url,
        authToken: "not-the-token",
      });
      try {
        const error = await expectLibsqlError(denied.execute("SELECT 1"), { code: "SERVER_ERROR", message: /401/ });
        expect(error.message).not.toContain("not-the-token");
      } finally {
        denied.close();
      }
      const client = rig.replica();
      fill(rig, 50);
      rig.server.faults.failNext(2, { status: 503, path: /^\/sync\// });
      await client.sync();
      await expectInSync(client, rig.server);
    });
  });
});
