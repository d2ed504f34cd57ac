import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { ReplicaClient } from "../../src/replica/replica-api.js";
import { useBrowser } from "../browser/rig/browser-fixture.js";
import type { HranaTestServer } from "../server/hrana-server.js";
import { dumpQueries, primaryDump, withRig } from "./helpers.js";

const browser = useBrowser();
const TOKEN = "chromium-replica-token";

/** Replica clients the page keeps between `evaluate` calls, by name. */
type Clients = Record<string, ReplicaClient>;

/**
 * The replica's contents, read in the page, in `primaryDump`'s form; and its
 * integrity check.
 */
async function pageDump(page: Page, name: string, server: HranaTestServer): Promise<{ dump: string; check: unknown }> {
  const tables = dumpQueries(server).slice(1);
  const result = await page.evaluate(
    async ({ name, queries }) => {
      const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
      const rowsOf = async (sql: string) =>
        (await client.execute(sql)).rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
      const render = (row: unknown[]) => {
        const out: string[] = [];
        for (let i = 0; i < row.length; i += 2) {
          const value = row[i];
          const type = String(row[i + 1]);
          if (value === null) out.push("null");
          else if (type === "blob") {
            out.push(
              `x${[...new Uint8Array(value as ArrayBuffer)].map((b) => b.toString(16).padStart(2, "0")).join("")}`,
            );
          } else out.push(`${type}:${String(value)}`);
        }
        return out;
      };
      const schema = await rowsOf(queries[0] as string);
      const tables: string[][][] = [];
      for (const sql of queries.slice(1)) tables.push((await rowsOf(sql)).map(render));
      return { schema, tables, check: (await rowsOf("PRAGMA integrity_check")).map((r) => r[0]) };
    },
    { name, queries: dumpQueries(server) },
  );
  const out: unknown[] = [result.schema];
  const names = (
    server.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .raw(true)
      .all() as unknown[][]
  ).map((row) => String(row[0]));
  for (const [i, table] of names.entries()) out.push(table, result.tables[i]);
  expect(names.length).toBe(tables.length);
  return { dump: JSON.stringify(out), check: result.check };
}

async function expectPageInSync(page: Page, name: string, server: HranaTestServer): Promise<void> {
  const { dump, check } = await pageDump(page, name, server);
  expect(check).toEqual(["ok"]);
  expect(dump).toBe(primaryDump(server));
}

/** Opens a replica client in the page under `name` (kept on `globalThis.clients`). */
function openReplica(page: Page, name: string, url: string, extra: Record<string, unknown> = {}): Promise<void> {
  return page.evaluate(
    ({ name, url, token, extra }) => {
      const g = globalThis as unknown as { clients?: Clients };
      g.clients ??= {};
      g.clients[name] = window.lib.createClient({ url: `opfs:${name}`, syncUrl: url, authToken: token, ...extra });
    },
    { name, url, token: TOKEN, extra },
  );
}

describe("embedded replica in Chromium (OPFS, engine in a worker, metadata in IndexedDB)", () => {
  it("bootstraps, pulls, walks a generation, and reads its own writes", { timeout: 120_000 }, async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
      server.db.exec("INSERT INTO t(v, b) SELECT 'row ' || value, randomblob(700) FROM generate_series(1, 600)");
      const page = await browser.open();
      const name = `replica-basic-${Date.now()}.db`;
      await openReplica(page, name, server.url);
      const first = await page.evaluate(async (name) => {
        const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
        const phases: string[] = [];
        client.replica.subscribe((e) => {
          if (e.type === "progress" && !phases.includes(e.progress.phase)) phases.push(e.progress.phase);
        });
        const result = await client.sync();
        return { result, phases, state: { ...client.replica.state(), lastSyncAt: undefined } };
      }, name);
      expect(first.result).toEqual({ frame_no: sync.history.frameCount, frames_synced: sync.history.frameCount });
      expect(first.phases).toEqual(["bootstrap", "pull"]);
      expect(first.state).toMatchObject({ ready: true, generation: 1, frameNo: sync.history.frameCount });
      await expectPageInSync(page, name, server);

      server.db.exec("UPDATE t SET v = 'changed' WHERE id % 7 = 0");
      sync.checkpoint();
      server.db.exec("DELETE FROM t WHERE id > 500");
      const written = await page.evaluate(async (name) => {
        const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
        const synced = await client.sync();
        const inserted = await client.execute({ sql: "INSERT INTO t(v) VALUES (?)", args: ["from the page"] });
        const seen = await client.execute("SELECT v FROM t WHERE v = 'from the page'");
        return {
          synced,
          rowsAffected: inserted.rowsAffected,
          seen: seen.rows.length,
          generation: client.replica.state().generation,
        };
      }, name);
      expect(written).toMatchObject({ rowsAffected: 1, seen: 1, generation: 2 });
      expect(server.db.prepare("SELECT count(*) FROM t WHERE v = 'from the page'").raw(true).get()).toEqual([1]);
      await expectPageInSync(page, name, server);
      await page.close();
    });
  });

  it("syncs on an interval, and two replicas writing through the primary converge", { timeout: 120_000 }, async () => {
    await withRig({ authToken: TOKEN }, async ({ server }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      const page = await browser.open();
      const stamp = Date.now();
      const [a, b] = [`replica-converge-a-${stamp}.db`, `replica-converge-b-${stamp}.db`];
      await openReplica(page, a, server.url, { syncInterval: 0.2 });
      await openReplica(page, b, server.url, { syncInterval: 0.2 });
      const seen = await page.evaluate(
        async ({ a, b }) => {
          const clients = (globalThis as unknown as { clients: Clients }).clients;
          const [ca, cb] = [clients[a] as Clients[string], clients[b] as Clients[string]];
          await Promise.all([ca.sync(), cb.sync()]);
          await ca.execute({ sql: "INSERT INTO t(v) VALUES (?)", args: ["from a"] });
          await cb.execute({ sql: "INSERT INTO t(v) VALUES (?)", args: ["from b"] });
          // Neither calls sync() again: the interval must bring each the other's write.
          const deadline = Date.now() + 20_000;
          const count = async (c: Clients[string]) => (await c.execute("SELECT count(*) FROM t")).rows[0]?.[0];
          while (Date.now() < deadline && ((await count(ca)) !== 2 || (await count(cb)) !== 2)) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return [await count(ca), await count(cb)];
        },
        { a, b },
      );
      expect(seen).toEqual([2, 2]);
      await expectPageInSync(page, a, server);
      await expectPageInSync(page, b, server);
      await page.close();
    });
  });

  it("keeps offline writes across a reload, pushes them, and reports a conflict to the callback", {
    timeout: 120_000,
  }, async () => {
    await withRig({ authToken: TOKEN }, async ({ server }) => {
      server.db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
      server.db.exec("INSERT INTO notes VALUES (1, 'original')");
      const page = await browser.open();
      const name = `replica-offline-${Date.now()}.db`;
      await openReplica(page, name, server.url, { offline: true });
      await page.evaluate(async (name) => {
        const client = (globalThis as unknown as { clients: Clients }).clients[name] as Clients[string];
        await client.sync();
        await client.execute("INSERT INTO notes VALUES (2, 'written offline')");
        await client.execute("UPDATE notes SET body = 'mine' WHERE id = 1");
        // No close: the page goes away with its worker.
      }, name);
      server.db.exec("UPDATE notes SET body = 'theirs' WHERE id = 1");
      await page.reload();
      await page.waitForFunction(() => window.lib !== undefined);
      const result = await page.evaluate(
        async ({ name, url, token }) => {
          const conflicts: unknown[] = [];
          const client = window.lib.createClient({
            url: `opfs:${name}`,
            syncUrl: url,
            authToken: token,
            offline: true,
            onConflict: (conflict) => {
              conflicts.push({ ...conflict, key: { id: String(conflict.key.id) }, current: conflict.current?.body });
              return "discard";
            },
          });
          const local = (await client.execute("SELECT body FROM notes ORDER BY id")).rows.map((r) => r.body);
          const pending = client.replica.state().pendingWrites;
          await client.sync();
          const after = (await client.execute("SELECT body FROM notes ORDER BY id")).rows.map((r) => r.body);
          const state = client.replica.state();
          client.close();
          return { local, pending, conflicts, after, pendingAfter: state.pendingWrites };
        },
        { name, url: server.url, token: TOKEN },
      );
      expect(result.local).toEqual(["mine", "written offline"]);
      expect(result.pending).toBe(2);
      expect(result.conflicts).toMatchObject([
        { reason: "changed", table: "notes", operation: "update", key: { id: "1" }, current: "theirs" },
      ]);
      expect(result.after).toEqual(["theirs", "written offline"]);
      expect(result.pendingAfter).toBe(0);
      expect(server.db.prepare("SELECT body FROM notes ORDER BY id").raw(true).all()).toEqual([
        ["theirs"],
        ["written offline"],
      ]);
      await page.close();
    });
  });

  it("recovers when its worker is terminated while frames are applied, 20 times", { timeout: 300_000 }, async () => {
    await withRig({ authToken: TOKEN }, async ({ server }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      const page = await browser.open();
      const name = `replica-crash-${Date.now()}.db`;
      const outcomes: string[] = [];
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 25; i++) {
          server.db.exec("INSERT INTO t(v) SELECT randomblob(3000) FROM generate_series(1, 40)");
        }
        const outcome = await page.evaluate(
          async ({ name, url, token, delay }) => {
            const { lib } = window;
            const worker = lib.workers.engine();
            let armed = false;
            const client = lib.createClient({
              url: `opfs:${name}`,
              syncUrl: url,
              authToken: token,
              worker,
              onSyncProgress: (p) => {
                // Once the frames have arrived (one response), applying them is next.
                if (p.phase === "pull" && p.framesDone > 0 && !armed) {
                  armed = true;
                  setTimeout(() => worker.terminate(), delay);
                }
              },
            });
            const error = await lib.thrown(client.sync());
            client.close();
            worker.terminate();
            return error === null ? "finished" : (error.code ?? error.message);
          },
          { name, url: server.url, token: TOKEN, delay: Math.random() * 60 },
        );
        outcomes.push(outcome);
        // A new worker opens what the old one left: SQLite's rollback, our metadata, then a sync.
        const check = await page.evaluate(
          async ({ name, url, token }) => {
            const { lib } = window;
            const worker = lib.workers.engine();
            const client = lib.createClient({ url: `opfs:${name}`, syncUrl: url, authToken: token, worker });
            try {
              const integrity = (await client.execute("PRAGMA integrity_check")).rows.map((r) => r[0]);
              const rows = Number((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n);
              await client.sync();
              const synced = Number((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n);
              return { integrity, rows, synced };
            } finally {
              client.close();
              worker.terminate();
            }
          },
          { name, url: server.url, token: TOKEN },
        );
        expect(check.integrity, `round ${round}`).toEqual(["ok"]);
        expect(check.rows % 40, `round ${round}: whole transactions only`).toBe(0);
        expect(check.synced).toBe(
          Number((server.db.prepare("SELECT count(*) FROM t").raw(true).get() as unknown[])[0]),
        );
      }
      expect(outcomes.filter((o) => o === "WORKER_TERMINATED").length).toBeGreaterThan(0);
      console.info(`worker termination rounds: ${outcomes.join(", ")}`);
      await page.close();
    });
  });
});
