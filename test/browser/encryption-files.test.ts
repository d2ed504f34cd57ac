import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncryptionSpec } from "../../src/proto.js";
import { crashChild, MARKER, nativeValue, openNative } from "../encryption/helpers.js";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();
const KEY = "browser-files-key-1q2w3e4r5t";
const PLAIN_TEXT = "PLAIN-ROW-TEXT-c41d";

type Storage = "opfs-sahpool" | "opfs";
const STORAGES: { storage: Storage; coi: boolean }[] = [
  { storage: "opfs-sahpool", coi: false },
  { storage: "opfs", coi: true },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-browser-files-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function clearFiles(page: Page, text: string): Promise<string[]> {
  const files = await page.evaluate((text) => window.lib.scanOpfs(text), text);
  return files.filter((file) => file.found).map((file) => file.path);
}

/** Runs `sql` in the browser and returns the last statement's rows. */
function run(page: Page, storage: Storage, path: string, sql: string[], encryption?: EncryptionSpec) {
  return page.evaluate(({ storage, path, sql, encryption }) => window.lib.runSql({ storage, path, encryption }, sql), {
    storage,
    path,
    sql,
    encryption,
  });
}

/** The database exported from the browser (encrypted as stored, or `decrypt`ed), written to a file here. */
async function exportToFile(page: Page, storage: Storage, path: string, encryption?: EncryptionSpec, decrypt = false) {
  const base64 = await page.evaluate(
    async ({ storage, path, encryption, decrypt }) => {
      const t = await window.lib.openWorkerTransport({ storage, path, encryption });
      try {
        return window.lib.toBase64(await t.exportDatabase({ decrypt }));
      } finally {
        await t.close();
      }
    },
    { storage, path, encryption, decrypt },
  );
  const file = join(dir, `export-${Math.random().toString(36).slice(2)}.db`);
  writeFileSync(file, Buffer.from(base64, "base64"));
  return file;
}

function nativeCount(file: string, key?: string): unknown {
  const db = openNative(file, key);
  try {
    expect(nativeValue(db, "PRAGMA integrity_check")).toBe("ok");
    return nativeValue(db, "SELECT count(*) FROM t");
  } finally {
    db.close();
  }
}

/** Starts a transaction that spills into the file in a worker of its own, then terminates that worker. */
function crashInBrowser(page: Page, storage: Storage, path: string, committed: number) {
  return page.evaluate(
    async ({ storage, path, key, marker, committed }) => {
      const { lib } = window;
      const worker = lib.workers.engine();
      const t = await lib.openWorkerTransport({ storage, path, worker, encryption: { key } });
      const rows = (n: number) =>
        `INSERT INTO t(v) SELECT '${marker}-' || hex(randomblob(500)) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) SELECT i FROM c)`;
      await t.main.sequence(`CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); ${rows(committed)}; PRAGMA cache_size=8;`);
      const stream = await t.openStream();
      await stream.execute({ sql: "BEGIN IMMEDIATE" }, "number");
      await stream.execute({ sql: "UPDATE t SET v = v || 'x'" }, "number");
      await stream.execute({ sql: rows(400) }, "number");
      worker.terminate();
    },
    { storage, path, key: KEY, marker: MARKER, committed },
  );
}

describe("hot journals between Chromium and native libSQL", () => {
  it("native libSQL rolls back what a terminated worker left (opfs-sahpool)", async () => {
    const page = await browser.open();
    await crashInBrowser(page, "opfs-sahpool", "journal/web.db", 60);
    const files = await page.evaluate(() => window.lib.sahpoolFiles("journal/web.db"));
    expect(Object.keys(files).sort()).toEqual(["/database.db", "/database.db-journal"]);
    const path = join(dir, "from-sahpool.db");
    writeFileSync(path, Buffer.from(files["/database.db"] as string, "base64"));
    writeFileSync(`${path}-journal`, Buffer.from(files["/database.db-journal"] as string, "base64"));
    expect(nativeCount(path, KEY)).toBe(60);
    expect(existsSync(`${path}-journal`)).toBe(false);
    await page.close();
  });

  it("native libSQL rolls back what a terminated worker left (opfs)", async () => {
    const page = await browser.open({ coi: true });
    await crashInBrowser(page, "opfs", "journal-web.db", 45);
    const files = await page.evaluate(() => window.lib.readOpfsFiles(["journal-web.db", "journal-web.db-journal"]));
    expect(Object.keys(files).sort()).toEqual(["journal-web.db", "journal-web.db-journal"]);
    const path = join(dir, "from-opfs.db");
    writeFileSync(path, Buffer.from(files["journal-web.db"] as string, "base64"));
    writeFileSync(`${path}-journal`, Buffer.from(files["journal-web.db-journal"] as string, "base64"));
    expect(nativeCount(path, KEY)).toBe(45);
    await page.close();
  });

  it("libsql-web in Chromium rolls back what a killed native process left (opfs)", { timeout: 60_000 }, async () => {
    const path = join(dir, "native-crash.db");
    await crashChild(["native", path, "70", KEY]);
    expect(existsSync(`${path}-journal`)).toBe(true);
    const page = await browser.open({ coi: true });
    await page.evaluate((files) => window.lib.writeOpfsFiles(files), {
      "native-crash.db": readFileSync(path).toString("base64"),
      "native-crash.db-journal": readFileSync(`${path}-journal`).toString("base64"),
    });
    expect(await run(page, "opfs", "native-crash.db", ["SELECT count(*) FROM t"], { key: KEY })).toEqual([[70]]);
    expect(await run(page, "opfs", "native-crash.db", ["PRAGMA integrity_check"], { key: KEY })).toEqual([["ok"]]);
    const left = await page.evaluate(() => window.lib.readOpfsFiles(["native-crash.db-journal"]));
    expect(left).toEqual({});
    await page.close();
  });
});

describe.each(STORAGES)("key changes on $storage in Chromium", ({ storage, coi }) => {
  it("encrypts a plain database, changes key and format, and decrypts it, leaving no clear text behind", async () => {
    const page = await browser.open({ coi });
    const path = `rekey/chain-${storage}.db`;
    const rekey = (from: EncryptionSpec | undefined, to: EncryptionSpec | null) =>
      page.evaluate(
        ({ storage, path, from, to }) => window.lib.rekeyWorkerDatabase({ storage, path, encryption: from }, to),
        { storage, path, from, to },
      );
    await run(page, storage, path, [
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
      `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1500) INSERT INTO t(v) SELECT '${PLAIN_TEXT}-' || i FROM c`,
    ]);
    expect(await clearFiles(page, PLAIN_TEXT)).not.toEqual([]);

    await rekey(undefined, { key: "first" });
    expect(await clearFiles(page, PLAIN_TEXT)).toEqual([]);
    expect(nativeCount(await exportToFile(page, storage, path, { key: "first" }), "first")).toBe(1500);

    await rekey({ key: "first" }, { key: "second" });
    expect(nativeCount(await exportToFile(page, storage, path, { key: "second" }), "second")).toBe(1500);
    const stale = await page.evaluate(
      ({ storage, path }) =>
        window.lib.thrown(window.lib.openWorkerTransport({ storage, path, encryption: { key: "first" } })),
      { storage, path },
    );
    expect(stale).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_WRONG" });

    const third = { key: "third", format: "authenticated" as const };
    await rekey({ key: "second" }, third);
    expect(await clearFiles(page, PLAIN_TEXT)).toEqual([]);
    expect(await run(page, storage, path, ["SELECT count(*) FROM t"], third)).toEqual([[1500]]);

    await rekey(third, null);
    expect(nativeCount(await exportToFile(page, storage, path))).toBe(1500);
    // Plain again: its clear text must not be taken for another test's leak.
    await page.evaluate(({ storage, path }) => window.lib.deleteWorkerDatabase({ storage, path }), { storage, path });
    await page.close();
  });
});

describe("key changes cut short in Chromium", () => {
  it("leave the database under the old or the new key when the worker is terminated at any moment", {
    timeout: 180_000,
  }, async () => {
    const page = await browser.open();
    const path = "rekey/terminated.db";
    await run(
      page,
      "opfs-sahpool",
      path,
      [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
        `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO t(v) SELECT '${MARKER}-' || i FROM c`,
      ],
      { key: "key-A" },
    );
    const rounds = 10;
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const outcome = await page.evaluate(
        async ({ path, round }) => {
          const { lib } = window;
          const worker = lib.workers.engine();
          const keys = ["key-A", "key-B"];
          let done = 0;
          const changing = (async () => {
            for (let i = 0; ; i++) {
              await lib.rekeyWorkerDatabase(
                { storage: "opfs-sahpool", path, encryption: { key: keys[i % 2] as string }, worker },
                { key: keys[(i + 1) % 2] as string },
              );
              done++;
            }
          })();
          while (done === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          await new Promise((resolve) => setTimeout(resolve, (round * 53) % 250));
          worker.terminate();
          await lib.thrown(changing);
          const count = async (key: string) => {
            const t = await lib.openWorkerTransport({ storage: "opfs-sahpool", path, encryption: { key } });
            try {
              return lib.rows(
                (
                  await t.main.execute(
                    { sql: "SELECT count(*), (SELECT integrity_check FROM pragma_integrity_check) FROM t" },
                    "number",
                  )
                ).rows,
              )[0];
            } finally {
              await t.close();
            }
          };
          const first = await lib.thrown(count("key-A"));
          const key = first === null ? "key-A" : "key-B";
          const rows = await count(key);
          // Start the next round from key A.
          if (key === "key-B")
            await lib.rekeyWorkerDatabase({ storage: "opfs-sahpool", path, encryption: { key } }, { key: "key-A" });
          const files = Object.keys(await lib.sahpoolFiles(path)).sort();
          return { key, wrong: first?.extendedCode ?? null, rows, files };
        },
        { path, round },
      );
      expect(outcome.rows, `round ${round}`).toEqual([3000, "ok"]);
      if (outcome.key === "key-B") expect(outcome.wrong).toBe("ENCRYPTION_KEY_WRONG");
      expect(outcome.files, `round ${round}`).toEqual(["/database.db"]);
      outcomes.push(outcome.key);
    }
    expect(await clearFiles(page, MARKER)).toEqual([]);
    console.log(`terminated key changes ended under: ${outcomes.join(", ")}`);
    await page.close();
  });
});

describe("the authenticated format in Chromium", () => {
  it("detects a byte changed in the file (export, change, import)", async () => {
    const page = await browser.open();
    const path = "auth/tampered.db";
    const encryption = { key: KEY, format: "authenticated" as const };
    await run(
      page,
      "opfs-sahpool",
      path,
      [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
        `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO t(v) SELECT '${MARKER}-' || i FROM c`,
      ],
      encryption,
    );
    expect(await clearFiles(page, MARKER)).toEqual([]);
    const file = readFileSync(await exportToFile(page, "opfs-sahpool", path, encryption));
    expect(file[20]).toBe(32);
    file[4096 * 4 + 333] ^= 0x04;
    const error = await page.evaluate(
      async ({ path, encryption, base64 }) => {
        const { lib } = window;
        await lib.importWorkerDatabase({ storage: "opfs-sahpool", path, encryption }, lib.fromBase64(base64));
        const t = await lib.openWorkerTransport({ storage: "opfs-sahpool", path, encryption });
        try {
          return await lib.thrown(t.main.execute({ sql: "SELECT count(*), sum(length(v)) FROM t" }, "number"));
        } finally {
          await t.close();
        }
      },
      { path, encryption, base64: file.toString("base64") },
    );
    expect(error).toMatchObject({ code: "ENCRYPTION_TAMPERED", extendedCode: "SQLITE_IOERR_DATA" });
    await page.close();
  });
});
