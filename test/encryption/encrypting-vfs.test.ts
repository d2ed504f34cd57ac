import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DatabaseCipher } from "../../worker/crypto/database-cipher.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { Sqlite } from "../../worker/sqlite/sqlite.js";
import { nodeFileStorage } from "../../worker/storage/node-file-storage.js";
import { MARKER, openWeb } from "./helpers.js";

const KEY = "vfs-test-key";
const PAGE = 4096;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-vfs-"));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function filled(name: string) {
  const db = await openWeb(join(dir, name), { key: KEY });
  await db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  await db.run(
    `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO t(v) SELECT '${MARKER}-' || i FROM c`,
  );
  return db;
}

describe("the encrypting VFS", () => {
  it("decrypts only the CBC blocks of SQLite's header reads, never a whole page, while the cache is warm", async () => {
    const db = await filled("header.db");
    try {
      await db.run("SELECT count(*), max(v) FROM t");
      const whole = vi.spyOn(WxAes256CbcCodec.prototype, "decryptPage");
      const range = vi.spyOn(WxAes256CbcCodec.prototype, "decryptRange");
      // In NORMAL locking mode every read transaction re-reads 16 header bytes to see whether the file changed.
      for (let i = 1; i <= 100; i++) await db.run("SELECT v FROM t WHERE id = ?", [BigInt(i * 13)]);
      expect(whole).not.toHaveBeenCalled();
      expect(range.mock.calls.length).toBeGreaterThanOrEqual(100);
      expect(range.mock.calls.every(([pageNo, , offset, out]) => pageNo === 1 && offset + out.length <= 100)).toBe(
        true,
      );
    } finally {
      await db.close();
    }
  });

  it("runs VACUUM, and refuses one that would change the page size, leaving the database as it was", async () => {
    const db = await filled("vacuum.db");
    try {
      await db.run("DELETE FROM t WHERE id % 2 = 0");
      await db.run("VACUUM");
      for (const size of [8192, 1024]) {
        await db.run(`PRAGMA page_size=${size}`);
        await expect(db.run("VACUUM")).rejects.toMatchObject({
          code: "SQLITE_IOERR",
          message: expect.stringContaining("page size of an encrypted database cannot be changed"),
        });
      }
      expect(await db.value("PRAGMA page_size")).toBe(PAGE);
      expect(await db.value("SELECT count(*) FROM t")).toBe(1000);
      expect(await db.value("PRAGMA integrity_check")).toBe("ok");
    } finally {
      await db.close();
    }
  });

  it("encrypts several pages written in one call below SQLite (as a replica writes them) page by page", async () => {
    const path = join(dir, "raw.db");
    await (await filled("raw.db")).close();
    const before = readFileSync(path);
    const sqlite = new Sqlite(await loadNodeSqlite("optimized"));
    const cipher = DatabaseCipher.create({ key: KEY });
    const db = await nodeFileStorage.open(sqlite, path, { encryption: cipher });
    try {
      // Pages 2..6 as SQLite has them (plaintext), written back through the database file in one 5-page call.
      const chunk = new Uint8Array(5 * PAGE);
      for (let pageNo = 2; pageNo <= 6; pageNo++) chunk.set(pageOf(sqlite, db, pageNo), (pageNo - 2) * PAGE);
      writeThroughFile(sqlite, db, chunk, PAGE);
      // The format is deterministic: the same plaintext at the same page numbers gives the same bytes.
      expect(readFileSync(path).equals(before)).toBe(true);
      // Part of a page, or two pages that would look like one page of 8192 bytes: refused, never guessed.
      expect(() => writeThroughFile(sqlite, db, chunk.subarray(0, 100), PAGE * 2)).toThrow("778");
      expect(() => writeThroughFile(sqlite, db, chunk.subarray(0, PAGE * 2), PAGE * 2)).toThrow("778");
      expect(readFileSync(path).equals(before)).toBe(true);
    } finally {
      sqlite.x.sqlite3_close_v2(db);
      await nodeFileStorage.release?.(path);
      cipher.dispose();
    }
  });
});

/** Page `pageNo` as SQLite sees it (plaintext), from `sqlite_dbpage`. */
function pageOf(sqlite: Sqlite, db: number, pageNo: number): Uint8Array {
  const { x, out } = sqlite;
  sqlite.check(
    db,
    x.sqlite3_prepare_v2(db, sqlite.encode(`SELECT data FROM sqlite_dbpage WHERE pgno = ${pageNo}`), -1, out, 0),
  );
  const stmt = sqlite.i32[out >> 2] as number;
  try {
    expect(x.sqlite3_step(stmt)).toBe(100);
    const p = x.sqlite3_column_blob(stmt, 0);
    return sqlite.u8.slice(p, p + x.sqlite3_column_bytes(stmt, 0));
  } finally {
    x.sqlite3_finalize(stmt);
  }
}

/** Writes `bytes` at `offset` through the database file's own methods, below SQLite (what a replica does). */
function writeThroughFile(sqlite: Sqlite, db: number, bytes: Uint8Array, offset: number): void {
  const FCNTL_FILE_POINTER = 7;
  const X_WRITE = 12;
  const { out } = sqlite;
  expect(sqlite.x.sqlite3_file_control(db, sqlite.encode("main"), FCNTL_FILE_POINTER, out)).toBe(0);
  const file = sqlite.i32[out >> 2] as number;
  const methods = sqlite.i32[file >> 2] as number;
  const wasm = sqlite.module.wasm as unknown as { functionEntry(p: number): (...args: unknown[]) => number };
  const xWrite = wasm.functionEntry(sqlite.i32[(methods + X_WRITE) >> 2] as number);
  const p = sqlite.copyIn(bytes);
  try {
    const rc = xWrite(file, p, bytes.length, BigInt(offset));
    if (rc !== 0) throw new Error(`xWrite: ${rc}`);
  } finally {
    sqlite.x.sqlite3_free(p);
  }
}
