import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FIXTURE_SQL, FIXTURE_SUMMARY_SQL, nativeRow } from "../crypto/crypto-fixtures.js";
import { crashChild, filesWithText, MARKER, nativeValue, openNative, openWeb } from "./helpers.js";

const KEY = "interop-key-Zx81-0123456789";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-interop-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture summary as libsql-web reports it (one row as an object). */
async function webSummary(path: string, key: string): Promise<Record<string, unknown>> {
  const db = await openWeb(path, { key });
  try {
    const result = await db.run(FIXTURE_SUMMARY_SQL);
    expect(await db.value("PRAGMA integrity_check")).toBe("ok");
    return Object.fromEntries(result.columns.map((name, i) => [name, result.rows[0]?.[i]]));
  } finally {
    await db.close();
  }
}

function nativeSummary(path: string, key: string): Record<string, unknown> {
  const db = openNative(path, key);
  try {
    expect(nativeRow(db, "PRAGMA integrity_check")).toEqual({ integrity_check: "ok" });
    return nativeRow(db, FIXTURE_SUMMARY_SQL);
  } finally {
    db.close();
  }
}

describe("encrypted file databases and native libSQL (encryptionKey)", () => {
  it("opens natively what libsql-web made and changed, with the same rows", async () => {
    const path = join(dir, "web.db");
    const db = await openWeb(path, { key: KEY });
    await db.engine.sequence(db.conn, FIXTURE_SQL);
    // A second transaction goes through the rollback journal and rewrites page 1.
    await db.engine.sequence(
      db.conn,
      "UPDATE items SET qty = qty + 1 WHERE id % 7 = 0; DELETE FROM items WHERE id % 11 = 0",
    );
    await db.close();
    expect(filesWithText(dir, "item-")).toEqual([]);
    const summary = await webSummary(path, KEY);
    expect(nativeSummary(path, KEY)).toEqual(summary);
    expect(summary.n).toBe(1500 - 136);
  });

  for (const pageSize of [1024, 4096, 8192]) {
    it(`opens and changes what native libSQL made (page size ${pageSize}); native reads the changes back`, async () => {
      const path = join(dir, `native-${pageSize}.db`);
      const native = openNative(path, KEY);
      native.exec(`PRAGMA page_size = ${pageSize}`);
      native.exec(FIXTURE_SQL);
      const made = nativeRow(native, FIXTURE_SUMMARY_SQL);
      native.close();

      expect(await webSummary(path, KEY)).toEqual(made);
      const db = await openWeb(path, { key: KEY });
      await db.run("PRAGMA cache_size=4");
      await db.engine.sequence(
        db.conn,
        "BEGIN; UPDATE items SET name = name || '-web' WHERE id % 3 = 0; DELETE FROM items WHERE id % 5 = 0; " +
          "INSERT INTO items(name, qty, data) SELECT 'added-' || id, id, randomblob(600) FROM items WHERE id < 200; COMMIT",
      );
      const changed = await db.run(FIXTURE_SUMMARY_SQL);
      await db.close();

      const back = nativeSummary(path, KEY);
      expect(Object.values(back)).toEqual(changed.rows[0]);
      expect(back).not.toEqual(made);
    });
  }

  it("rolls back natively a transaction a killed libsql-web process left in its journal", {
    timeout: 60_000,
  }, async () => {
    const path = join(dir, "web-crash.db");
    for (let round = 1; round <= 3; round++) {
      await crashChild(["web", path, "40", KEY]);
      expect(existsSync(`${path}-journal`)).toBe(true);
      const native = openNative(path, KEY);
      try {
        expect(nativeValue(native, "SELECT count(*) FROM t")).toBe(round * 40);
        expect(nativeValue(native, "PRAGMA integrity_check")).toBe("ok");
      } finally {
        native.close();
      }
      expect(existsSync(`${path}-journal`)).toBe(false);
    }
  });

  it("rolls back a transaction a killed native process left in its journal", { timeout: 60_000 }, async () => {
    const path = join(dir, "native-crash.db");
    for (let round = 1; round <= 3; round++) {
      await crashChild(["native", path, "40", KEY], () => {
        // Native libSQL does not write clear text either.
        expect(filesWithText(dir, MARKER)).toEqual([]);
      });
      expect(existsSync(`${path}-journal`)).toBe(true);
      const db = await openWeb(path, { key: KEY });
      try {
        expect(await db.value("SELECT count(*) FROM t")).toBe(round * 40);
        expect(await db.value("PRAGMA integrity_check")).toBe("ok");
      } finally {
        await db.close();
      }
      expect(existsSync(`${path}-journal`)).toBe(false);
    }
  });

  it("opens a file native libSQL left in WAL mode once its WAL is checkpointed, and refuses it before", async () => {
    const path = join(dir, "wal.db");
    const native = openNative(path, KEY);
    native.exec("PRAGMA journal_mode=WAL");
    native.exec(FIXTURE_SQL);
    const made = nativeRow(native, FIXTURE_SUMMARY_SQL);
    const refused = await openWeb(path, { key: KEY }).then(
      async (db) => {
        await db.close();
        return null;
      },
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: "SQLITE_CANTOPEN", message: expect.stringContaining("wal_checkpoint") });
    native.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    native.close();
    if (existsSync(`${path}-wal`)) expect(statSync(`${path}-wal`).size).toBe(0);

    expect(await webSummary(path, KEY)).toEqual(made);
    const db = await openWeb(path, { key: KEY });
    await db.run("INSERT INTO items(name, qty) VALUES ('after-wal', 1)");
    expect(await db.value("PRAGMA journal_mode")).toBe("delete");
    await db.close();
    const back = openNative(path, KEY);
    try {
      expect(nativeValue(back, "SELECT count(*) FROM items WHERE name = 'after-wal'")).toBe(1);
      expect(nativeValue(back, "PRAGMA integrity_check")).toBe("ok");
    } finally {
      back.close();
    }
  });

  it("uses only the first 32 bytes of a longer key, as native libSQL does, and warns without the key", async () => {
    const long = `${"k".repeat(32)}-and-a-tail-that-native-libsql-ignores`;
    const path = join(dir, "long-key.db");
    const native = openNative(path, long);
    native.exec(FIXTURE_SQL);
    const made = nativeRow(native, FIXTURE_SUMMARY_SQL);
    native.close();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const db = await openWeb(path, { key: long.slice(0, 32) });
      expect(Object.values(made)).toEqual((await db.run(FIXTURE_SUMMARY_SQL)).rows[0]);
      await db.close();
      expect(warn).not.toHaveBeenCalled();
      const withTail = await openWeb(path, { key: long });
      expect(Object.values(made)).toEqual((await withTail.run(FIXTURE_SUMMARY_SQL)).rows[0]);
      await withTail.close();
      expect(warn).toHaveBeenCalledTimes(1);
      const text = String(warn.mock.calls[0]?.[0]);
      expect(text).toContain("longer than 32");
      expect(text).not.toContain("k".repeat(8));
    } finally {
      warn.mockRestore();
    }
  });
});
