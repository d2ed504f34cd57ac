import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_SQL, FIXTURE_SUMMARY_SQL, nativeRow } from "../crypto/crypto-fixtures.js";
import { MARKER, nativeValue, openNative } from "../encryption/helpers.js";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();
const KEY = "browser-key-8s7d6f5g4h3j2k1l";

type Storage = "opfs-sahpool" | "opfs";
const STORAGES: { storage: Storage; coi: boolean; rounds: number }[] = [
  { storage: "opfs-sahpool", coi: false, rounds: 20 },
  { storage: "opfs", coi: true, rounds: 4 },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-browser-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Files in OPFS that hold `text` in clear (every file of the origin is read). */
async function clearFiles(page: Page, text: string): Promise<string[]> {
  const files = await page.evaluate((text) => window.lib.scanOpfs(text), text);
  expect(files.length).toBeGreaterThan(0);
  return files.filter((file) => file.found).map((file) => file.path);
}

/** Runs `sql` in the browser on an encrypted database and returns the last statement's rows. */
function run(page: Page, storage: Storage, path: string, sql: string[], key = KEY): Promise<unknown[][]> {
  return page.evaluate(
    ({ storage, path, sql, key }) => window.lib.runSql({ storage, path, encryption: { key } }, sql),
    { storage, path, sql, key },
  );
}

/** The database's file as stored (encrypted), exported from the browser. */
async function exported(page: Page, storage: Storage, path: string, key = KEY): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ({ storage, path, key }) => {
      const t = await window.lib.openWorkerTransport({ storage, path, encryption: { key } });
      try {
        return window.lib.toBase64(await t.exportDatabase());
      } finally {
        await t.close();
      }
    },
    { storage, path, key },
  );
  return Buffer.from(base64, "base64");
}

function nativeSummary(bytes: Uint8Array, name: string, key = KEY): Record<string, unknown> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const db = openNative(path, key);
  try {
    expect(nativeValue(db, "PRAGMA integrity_check")).toBe("ok");
    return nativeRow(db, FIXTURE_SUMMARY_SQL);
  } finally {
    db.close();
  }
}

describe.each(STORAGES)("encrypted $storage databases in Chromium", ({ storage, coi, rounds }) => {
  it("keep only ciphertext in OPFS, and export a file native libSQL opens with the key", async () => {
    const page = await browser.open({ coi });
    const path = `enc/made-${storage}.db`;
    const summary = await run(page, storage, path, [
      "PRAGMA cache_size=8",
      ...FIXTURE_SQL.split(";").filter((sql) => sql.trim() !== ""),
      `UPDATE items SET name = '${MARKER}-' || id WHERE id % 4 = 0`,
      "DELETE FROM items WHERE id % 9 = 0",
      FIXTURE_SUMMARY_SQL,
    ]);
    expect(await clearFiles(page, MARKER)).toEqual([]);
    const bytes = await exported(page, storage, path);
    expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
    expect(Object.values(nativeSummary(bytes, `from-${storage}.db`))).toEqual(summary[0]);
    await page.close();
  });

  it("import a database native libSQL encrypted, change it, and give it back to native libSQL", async () => {
    const nativePath = join(dir, `native-${storage}.db`);
    const native = openNative(nativePath, KEY);
    native.exec(FIXTURE_SQL);
    const made = nativeRow(native, FIXTURE_SUMMARY_SQL);
    native.close();
    const page = await browser.open({ coi });
    const path = `enc/native-${storage}.db`;
    const result = await page.evaluate(
      async ({ storage, path, key, base64 }) => {
        const { lib } = window;
        const bytes = lib.fromBase64(base64);
        const wrong = await lib.thrown(
          lib.importWorkerDatabase({ storage, path, encryption: { key: `${key}!` } }, bytes),
        );
        const missing = await lib.thrown(lib.importWorkerDatabase({ storage, path }, bytes));
        await lib.importWorkerDatabase({ storage, path, encryption: { key } }, bytes);
        return { wrong, missing };
      },
      { storage, path, key: KEY, base64: readFileSync(nativePath).toString("base64") },
    );
    expect(result.wrong).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_WRONG" });
    expect(result.missing).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_MISSING" });
    expect((await run(page, storage, path, [FIXTURE_SUMMARY_SQL]))[0]).toEqual(Object.values(made));
    const changed = await run(page, storage, path, [
      "INSERT INTO items(name, qty, data) SELECT 'browser-' || id, id, randomblob(900) FROM items WHERE id <= 300",
      "UPDATE items SET qty = -qty WHERE id % 10 = 0",
      FIXTURE_SUMMARY_SQL,
    ]);
    const back = nativeSummary(await exported(page, storage, path), `back-${storage}.db`);
    expect(Object.values(back)).toEqual(changed[0]);
    expect(back).not.toEqual(made);
    await page.close();
  });

  it("refuse a wrong or missing key, and a key for a plain database, with stable codes", async () => {
    const page = await browser.open({ coi });
    const path = `enc/errors-${storage}.db`;
    await run(page, storage, path, ["CREATE TABLE t(v)", "INSERT INTO t VALUES (1)"]);
    const result = await page.evaluate(
      async ({ storage, path, key }) => {
        const { lib } = window;
        const open = (encryption?: { key: string; format?: "libsql" | "authenticated" }, name = path) =>
          lib.thrown(
            lib.openWorkerTransport({ storage, path: name, encryption }).then(async (t) => {
              await t.main.execute({ sql: "SELECT count(*) FROM sqlite_schema" }, "number");
              await t.close();
            }),
          );
        const plain = await lib.openWorkerTransport({ storage, path: `${path}-plain` });
        await plain.main.execute({ sql: "CREATE TABLE t(v)" }, "number");
        await plain.close();
        return {
          wrong: await open({ key: `${key}-wrong` }),
          missing: await open(),
          otherFormat: await open({ key, format: "authenticated" }),
          onPlain: await open({ key }, `${path}-plain`),
          right: await open({ key }),
        };
      },
      { storage, path, key: KEY },
    );
    expect(result.wrong).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_WRONG", rawCode: 26 });
    expect(result.missing).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_MISSING" });
    expect(result.otherFormat).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_FORMAT_MISMATCH" });
    expect(result.onPlain).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_NOT_ENCRYPTED" });
    expect(result.right).toBeNull();
    for (const error of [result.wrong, result.missing, result.otherFormat, result.onPlain]) {
      expect(JSON.stringify(error)).not.toContain(KEY.slice(0, 10));
    }
    await page.close();
  });

  it(`roll back a transaction cut short by terminating the worker, ${rounds} times, with no clear text in OPFS`, {
    timeout: 240_000,
  }, async () => {
    const page = await browser.open({ coi });
    const path = `enc/crash-${storage}.db`;
    let committed = 0;
    for (let round = 0; round < rounds; round++) {
      const result = await page.evaluate(
        async ({ storage, path, key, marker, round }) => {
          const { lib } = window;
          const worker = lib.workers.engine();
          const encryption = { key };
          const t = await lib.openWorkerTransport({ storage, path, worker, encryption, busyTimeoutMs: 10_000 });
          const one = async (sql: string) => window.lib.rows((await t.main.execute({ sql }, "number")).rows)[0]?.[0];
          await t.main.execute({ sql: "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)" }, "number");
          const before = {
            count: Number(await one("SELECT count(*) FROM t")),
            sum: Number(await one("SELECT coalesce(sum(id), 0) FROM t")),
            integrity: await one("PRAGMA integrity_check"),
          };
          await t.main.execute({ sql: "PRAGMA cache_size=8" }, "number");
          const rows = (n: number) =>
            `INSERT INTO t(v) SELECT '${marker}-' || hex(randomblob(700)) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) SELECT i FROM c)`;
          const committing = await t.openStream();
          await committing.execute({ sql: "BEGIN IMMEDIATE" }, "number");
          await committing.execute({ sql: rows(50) }, "number");
          await committing.execute({ sql: "COMMIT" }, "number");
          await committing.close();
          const crashing = await t.openStream();
          await crashing.execute({ sql: "BEGIN IMMEDIATE" }, "number");
          await crashing.execute({ sql: "DELETE FROM t WHERE id % 2 = 0" }, "number");
          await crashing.execute({ sql: rows(300) }, "number");
          const inFlight = crashing.execute({ sql: rows(300) }, "number");
          if (round % 2 === 0) worker.terminate();
          else t.terminate();
          await lib.thrown(inFlight);
          return { before };
        },
        { storage, path, key: KEY, marker: MARKER, round },
      );
      expect(result.before, `round ${round}`).toEqual({
        count: committed,
        sum: (committed * (committed + 1)) / 2,
        integrity: "ok",
      });
      expect(await clearFiles(page, MARKER), `after the crash of round ${round}`).toEqual([]);
      committed += 50;
    }
    expect(await run(page, storage, path, ["SELECT count(*) FROM t"])).toEqual([[committed]]);
    expect(await run(page, storage, path, ["PRAGMA integrity_check"])).toEqual([["ok"]]);
    await page.close();
  });
});
