import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();

/** Opens `name` in `page` and returns the rows of `sql` (closing again unless `keep`); errors come back described. */
function query(page: Page, name: string, sql: string, keep = false) {
  return page.evaluate(
    async ({ name, sql, keep }) => {
      const { lib } = window;
      try {
        const t = await lib.openWorkerTransport({ storage: "opfs-sahpool", path: name, busyTimeoutMs: 300 });
        const { rows } = await t.main.execute({ sql }, "number");
        if (!keep) await t.close();
        return { rows, error: null };
      } catch (error) {
        return { rows: null, error: await lib.thrown(Promise.reject(error)) };
      }
    },
    { name, sql, keep },
  );
}

describe("storage availability in Chromium", () => {
  it("refuses persistent storage with STORAGE_UNAVAILABLE where OPFS is missing, and still serves memory", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const worker = lib.workers.noOpfs();
      const sahpool = await lib.thrown(lib.openWorkerTransport({ storage: "opfs-sahpool", path: "x.db", worker }));
      const opfs = await lib.thrown(lib.openWorkerTransport({ storage: "opfs", path: "x.db", worker }));
      const memory = await lib.openWorkerTransport({ storage: "memory", path: "", worker });
      const one = window.lib.rows((await memory.main.execute({ sql: "SELECT 1" }, "number")).rows)[0]?.[0];
      await memory.close();
      worker.terminate();
      return { sahpool, opfs, one };
    });
    expect(result.sahpool).toMatchObject({ isLibsqlError: true, code: "STORAGE_UNAVAILABLE" });
    expect(result.sahpool?.message).toMatch(/Origin Private File System/);
    expect(result.opfs).toMatchObject({ isLibsqlError: true, code: "STORAGE_UNAVAILABLE" });
    expect(result.one).toBe(1);
  });

  it('refuses "opfs" with STORAGE_UNAVAILABLE unless the page is cross-origin isolated', async () => {
    const plain = await browser.open();
    const refused = await plain.evaluate(() =>
      window.lib.thrown(window.lib.openWorkerTransport({ storage: "opfs", path: "isolated.db" })),
    );
    expect(refused).toMatchObject({ isLibsqlError: true, code: "STORAGE_UNAVAILABLE" });
    expect(refused?.message).toMatch(/cross-origin isolated/);
    const isolated = await browser.open({ coi: true });
    const rows = await isolated.evaluate(async () => {
      const t = await window.lib.openWorkerTransport({ storage: "opfs", path: "isolated.db" });
      const { rows } = await t.main.execute({ sql: "SELECT 'isolated'" }, "number");
      await t.close();
      return { rows, isolated: globalThis.crossOriginIsolated };
    });
    expect(rows).toEqual({ rows: [["isolated"]], isolated: true });
  });
});

describe("two tabs and one opfs-sahpool database", () => {
  it("gives the second tab STORAGE_BUSY and never touches the first tab's data", async () => {
    const first = await browser.open();
    const second = await browser.open();
    const name = "two-tabs.db";
    await first.evaluate(async (name) => {
      const t = await window.lib.openWorkerTransport({ storage: "opfs-sahpool", path: name });
      await t.main.execute({ sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" }, "number");
      await t.main.execute({ sql: "INSERT INTO t(v) SELECT 'row' FROM (SELECT 1 UNION ALL SELECT 2)" }, "number");
      (window as unknown as { held: unknown }).held = t;
    }, name);

    const refused = await second.evaluate(async (name) => {
      const { lib } = window;
      const request = { storage: "opfs-sahpool" as const, path: name, busyTimeoutMs: 300 };
      const empty = new Uint8Array(4096);
      empty.set(new TextEncoder().encode("SQLite format 3\0"));
      empty.set([0x10, 0x00, 1, 1], 16);
      return {
        open: await lib.thrown(lib.openWorkerTransport(request)),
        remove: await lib.thrown(lib.deleteWorkerDatabase(request)),
        replace: await lib.thrown(lib.importWorkerDatabase(request, empty)),
      };
    }, name);
    expect(refused.open).toMatchObject({ isLibsqlError: true, code: "STORAGE_BUSY" });
    expect(refused.remove).toMatchObject({ isLibsqlError: true, code: "STORAGE_BUSY" });
    expect(refused.replace).toMatchObject({ isLibsqlError: true, code: "STORAGE_BUSY" });

    // A careless second tab installs opfs-sahpool on the pool's folder without libsql-web's lock:
    // SQLite 3.45.1 fails to take the files, then tries to remove the whole folder.
    const attack = await second.evaluate(
      (name) =>
        window.lib.ask<{ installed: boolean; error?: string }>(window.lib.workers.rawSahpool(), {
          directory: `/.libsql-web/sahpool/${encodeURIComponent(name)}`,
        }),
      name,
    );
    expect(attack.installed).toBe(false);
    const wipe = await second.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      return window.lib.thrown(root.removeEntry(".libsql-web", { recursive: true }));
    });
    expect(wipe).toMatchObject({ name: "NoModificationAllowedError" });

    const stillThere = await first.evaluate(async () => {
      const t = (window as unknown as { held: import("../../src/transport.js").Transport }).held;
      const { rows } = await t.main.execute({ sql: "SELECT count(*) FROM t" }, "number");
      await t.close();
      return rows;
    });
    expect(stillThere).toEqual([[2]]);
    // Once the first tab closed the database, the second one gets it, data included.
    expect(await query(second, name, "SELECT count(*) FROM t")).toEqual({ rows: [[2]], error: null });
    await first.close();
    await second.close();
  });

  it("hands the database over when the owning tab closes, without losing it (10 races)", async () => {
    const name = "handover.db";
    const setup = await browser.open();
    expect(await query(setup, name, "CREATE TABLE t(v)")).toMatchObject({ error: null });
    await setup.close();
    for (let round = 0; round < 10; round++) {
      const owner = await browser.open();
      expect(await query(owner, name, `INSERT INTO t VALUES (${round})`, true)).toMatchObject({ error: null });
      const next = await browser.open();
      // Close the owner while the next tab is already waiting for the database.
      const waiting = query(next, name, "SELECT count(*) FROM t");
      await owner.close();
      const { rows, error } = await waiting;
      expect(error, `round ${round}`).toBeNull();
      expect(rows, `round ${round}`).toEqual([[round + 1]]);
      await next.close();
    }
  });
});

describe("database files in Chromium", () => {
  it("exports a database and imports it under another name and into another storage", async () => {
    const page = await browser.open({ coi: true });
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const source = await lib.openWorkerTransport({ storage: "opfs-sahpool", path: "files/source.db" });
      await source.main.sequence(
        "CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB); INSERT INTO t VALUES (1, 1.5, 'één', x'00ff10'), (2, NULL, 'two', zeroblob(3000));",
      );
      const bytes = await source.exportDatabase();
      await source.close();
      const rowsOf = async (storage: "opfs-sahpool" | "opfs", path: string) => {
        const t = await lib.openWorkerTransport({ storage, path });
        const { rows } = await t.main.execute(
          { sql: "SELECT i, r, s, hex(b), (SELECT page_size FROM pragma_page_size) FROM t ORDER BY i" },
          "number",
        );
        await t.close();
        return rows;
      };
      await lib.importWorkerDatabase({ storage: "opfs-sahpool", path: "files/copy.db" }, bytes);
      await lib.importWorkerDatabase({ storage: "opfs", path: "files/copy.db" }, bytes);
      const header = new TextDecoder().decode(bytes.subarray(0, 15));
      return {
        header,
        size: bytes.byteLength,
        sahpool: await rowsOf("opfs-sahpool", "files/copy.db"),
        opfs: await rowsOf("opfs", "files/copy.db"),
      };
    });
    const rows = [
      [1, 1.5, "één", "00FF10", 4096],
      [2, null, "two", "00".repeat(3000), 4096],
    ];
    expect(result.header).toBe("SQLite format 3");
    expect(result.size % 4096).toBe(0);
    expect(result.sahpool).toEqual(rows);
    expect(result.opfs).toEqual(rows);
  });

  it("replaces an existing database on import, and deletes one", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const request = { storage: "opfs-sahpool" as const, path: "files/replaced.db" };
      const memory = await lib.openWorkerTransport({ storage: "memory", path: "" });
      await memory.main.sequence("CREATE TABLE fresh(v); INSERT INTO fresh VALUES ('imported');");
      const bytes = await memory.exportDatabase();
      await memory.close();
      const t = await lib.openWorkerTransport(request);
      await t.main.sequence("CREATE TABLE old(v); INSERT INTO old VALUES ('old');");
      await t.close();
      await lib.importWorkerDatabase(request, bytes);
      const tables = async () => {
        const t = await lib.openWorkerTransport(request);
        const { rows } = await t.main.execute({ sql: "SELECT name FROM sqlite_schema ORDER BY name" }, "number");
        await t.close();
        return rows;
      };
      const afterImport = await tables();
      await lib.deleteWorkerDatabase(request);
      const afterDelete = await tables();
      await lib.deleteWorkerDatabase(request);
      await lib.deleteWorkerDatabase({ storage: "opfs-sahpool", path: "files/never-existed.db" });
      return { afterImport, afterDelete };
    });
    expect(result.afterImport).toEqual([["fresh"]]);
    expect(result.afterDelete).toEqual([]);
  });

  it("gives the database up on close, so the same worker can import, delete and reopen it", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const worker = lib.workers.engine();
      const request = { storage: "opfs-sahpool" as const, path: "files/same-worker.db", worker, busyTimeoutMs: 300 };
      const first = await lib.openWorkerTransport(request);
      await first.main.sequence("CREATE TABLE t(v); INSERT INTO t VALUES (1), (2);");
      const bytes = await first.exportDatabase();
      await first.close();
      await lib.importWorkerDatabase({ ...request, path: "files/same-worker-copy.db" }, bytes);
      await lib.deleteWorkerDatabase(request);
      await lib.importWorkerDatabase(request, bytes);
      const again = await lib.openWorkerTransport(request);
      const { rows } = await again.main.execute({ sql: "SELECT count(*) FROM t" }, "number");
      await again.close();
      // Meanwhile another tab's worker can take it too.
      const other = await lib.openWorkerTransport({ ...request, worker: undefined });
      const otherRows = (await other.main.execute({ sql: "SELECT count(*) FROM t" }, "number")).rows;
      await other.close();
      worker.terminate();
      return { rows, otherRows };
    });
    expect(result).toEqual({ rows: [[2]], otherRows: [[2]] });
  });

  it("refuses bad bytes, open databases and memory imports with coded errors", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const worker = lib.workers.engine();
      const request = { storage: "opfs-sahpool" as const, path: "files/open.db", worker };
      const t = await lib.openWorkerTransport(request);
      await t.main.sequence("CREATE TABLE kept(v); INSERT INTO kept VALUES (1);");
      const bytes = await t.exportDatabase();
      const notADatabase = new Uint8Array(4096).fill(7);
      const outcome = {
        notADatabase: await lib.thrown(lib.importWorkerDatabase({ ...request, path: "files/other.db" }, notADatabase)),
        truncated: await lib.thrown(
          lib.importWorkerDatabase({ ...request, path: "files/other.db" }, bytes.subarray(0, 1000)),
        ),
        importOpen: await lib.thrown(lib.importWorkerDatabase(request, bytes)),
        deleteOpen: await lib.thrown(lib.deleteWorkerDatabase(request)),
        memoryImport: await lib.thrown(lib.importWorkerDatabase({ storage: "memory", path: "" }, bytes)),
        kept: (await t.main.execute({ sql: "SELECT count(*) FROM kept" }, "number")).rows,
      };
      await t.close();
      worker.terminate();
      return outcome;
    });
    expect(result.notADatabase).toMatchObject({ isLibsqlError: true, code: "SQLITE_NOTADB" });
    expect(result.truncated).toMatchObject({ isLibsqlError: true, code: "SQLITE_NOTADB" });
    expect(result.importOpen).toMatchObject({ isLibsqlError: true, code: "STORAGE_BUSY" });
    expect(result.deleteOpen).toMatchObject({ isLibsqlError: true, code: "STORAGE_BUSY" });
    expect(result.memoryImport).toMatchObject({ isLibsqlError: true, code: "STORAGE_UNAVAILABLE" });
    expect(result.kept).toEqual([[1]]);
  });
});
