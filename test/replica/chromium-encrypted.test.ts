import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { ReplicaClient } from "../../src/replica/replica-api.js";
import { useBrowser } from "../browser/rig/browser-fixture.js";
import { withRig } from "./helpers.js";
import { MARKER, spilling } from "./plaintext.js";

const browser = useBrowser();
const TOKEN = "chromium-encrypted-token";
const KEY = "chromium-replica-key-J8w";

/** Replica clients the page keeps between `evaluate` calls, by name. */
type Clients = Record<string, ReplicaClient>;

/** Opens (or reopens) an encrypted offline-capable replica client in the page under `name`. */
function openReplica(page: Page, name: string, url: string, key: string | undefined): Promise<void> {
  return page.evaluate(
    ({ name, url, token, key }) => {
      const g = globalThis as unknown as { clients?: Clients };
      g.clients ??= {};
      g.clients[name] = window.lib.createClient({
        url: `opfs:${name}`,
        syncUrl: url,
        authToken: token,
        encryptionKey: key,
        offline: true,
      });
    },
    { name, url, token: TOKEN, key },
  );
}

/** Runs `sql` on the page's client `name` (`sync` first when asked); returns the rows as arrays. */
function run(page: Page, name: string, sql: string, sync = false): Promise<unknown[][]> {
  return page.evaluate(
    async ({ name, sql, sync }) => {
      const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
      if (sync) await client.sync();
      return (await client.execute(sql)).rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
    },
    { name, sql, sync },
  );
}

/** Paths of the origin's OPFS files (pools, journals, working copies) that hold `text` in clear. */
async function filesHolding(page: Page, text: string): Promise<string[]> {
  const files = await page.evaluate((text) => window.lib.scanOpfs(text), text);
  return files.filter((file) => file.found).map((file) => file.path);
}

describe("an encrypted embedded replica in Chromium (OPFS)", () => {
  it("syncs, keeps offline writes across a reload, pushes them, and stores nothing in clear", {
    timeout: 180_000,
  }, async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync }) => {
      const rows = () => server.db.prepare("SELECT id, v FROM t ORDER BY id").raw(true).all();
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec(`INSERT INTO t(v) SELECT '${MARKER}-' || value FROM generate_series(1, 500)`);
      const page = await browser.open();
      const name = `replica-encrypted-${Date.now()}.db`;
      await openReplica(page, name, server.url, KEY);
      expect(await run(page, name, "SELECT id, v FROM t ORDER BY id", true)).toEqual(rows());

      // Pages past the end in runs of 2 and 4 (each length also that of one larger page), then a generation.
      for (const pages of [2, 4]) server.db.prepare("INSERT INTO t(v) VALUES (?)").run(spilling(pages));
      expect(await run(page, name, "SELECT id, v FROM t ORDER BY id", true)).toEqual(rows());
      sync.checkpoint();
      server.db.exec(`UPDATE t SET v = v || '-updated' WHERE id % 5 = 0`);
      expect(await run(page, name, "SELECT id, v FROM t ORDER BY id", true)).toEqual(rows());
      expect(await run(page, name, "PRAGMA integrity_check")).toEqual([["ok"]]);

      await run(page, name, `INSERT INTO t(id, v) VALUES (1000, '${MARKER}-offline')`);
      await run(page, name, `UPDATE t SET v = '${MARKER}-offline-edit' WHERE id = 3`);
      // No close: the page goes away with its worker.
      await page.reload();
      await page.waitForFunction(() => window.lib !== undefined);
      expect(await filesHolding(page, MARKER)).toEqual([]);
      expect(await filesHolding(page, KEY)).toEqual([]);

      await openReplica(page, name, server.url, KEY);
      expect(await run(page, name, "SELECT v FROM t WHERE id IN (3, 1000) ORDER BY id")).toEqual([
        [`${MARKER}-offline-edit`],
        [`${MARKER}-offline`],
      ]);
      expect(await run(page, name, "SELECT id, v FROM t ORDER BY id", true)).toEqual(rows());
      expect(server.db.prepare("SELECT v FROM t WHERE id IN (3, 1000) ORDER BY id").raw(true).all()).toEqual([
        [`${MARKER}-offline-edit`],
        [`${MARKER}-offline`],
      ]);
      const meta = await page.evaluate(
        async ({ name }) => {
          const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
          const state = client.replica.state();
          await client[Symbol.asyncDispose]();
          // The metadata as IndexedDB holds it: frame numbers only.
          const db = await new Promise<IDBDatabase>((resolve, reject) => {
            const request = indexedDB.open("libsql-web-replicas");
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          const saved = await new Promise<unknown>((resolve, reject) => {
            const request = db.transaction("meta").objectStore("meta").get(`opfs-sahpool:${name}`);
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          db.close();
          return { pending: state.pendingWrites, saved: JSON.stringify(saved) };
        },
        { name },
      );
      expect(meta.pending).toBe(0);
      // Numbers and flags only: no row, no key.
      expect(Object.values(JSON.parse(meta.saved)).every((v) => ["number", "boolean"].includes(typeof v))).toBe(true);
      expect(await filesHolding(page, MARKER)).toEqual([]);

      // The scan does find clear text where there is some: a plain replica of the same primary.
      const control = `replica-plain-${Date.now()}.db`;
      await openReplica(page, control, server.url, undefined);
      await run(page, control, "SELECT 1", true);
      expect(await filesHolding(page, MARKER)).not.toEqual([]);
      const refused = await page.evaluate(
        ({ url, token, key }) => {
          const client = window.lib.createClient({
            url: `opfs:refused-${Date.now()}.db`,
            syncUrl: url,
            authToken: token,
            encryptionKey: key,
            encryptionFormat: "authenticated",
          });
          return window.lib.thrown(client.sync());
        },
        { url: server.url, token: TOKEN, key: KEY },
      );
      expect(refused).toMatchObject({ code: "ENCRYPTION_FORMAT_NOT_SUPPORTED", isLibsqlError: true });
      expect(refused?.message).not.toContain(KEY);
      await page.close();
    });
  });
});
