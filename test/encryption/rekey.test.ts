import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient, rekeyDatabase } from "../../src/node.js";
import { commitRecord } from "../../worker/crypto/rekey-database-file.js";
import { crashChild, filesWithText, MARKER, nativeValue, openNative, openWeb, spawnCrashChild } from "./helpers.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-rekey-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 2000;

/** A plain database of ROWS rows whose text carries MARKER. */
async function plainDatabase(name: string): Promise<string> {
  const path = join(dir, name);
  const db = await openWeb(path);
  await db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  await db.run(
    `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) INSERT INTO t(v) SELECT '${MARKER}-' || i FROM c`,
  );
  await db.close();
  return path;
}

async function webCount(path: string, key?: string, format?: "libsql" | "authenticated"): Promise<unknown> {
  const db = await openWeb(path, key === undefined ? undefined : { key, format });
  try {
    expect(await db.value("PRAGMA integrity_check")).toBe("ok");
    return await db.value("SELECT count(*) FROM t");
  } finally {
    await db.close();
  }
}

function nativeCount(path: string, key?: string): unknown {
  const db = openNative(path, key);
  try {
    expect(nativeValue(db, "PRAGMA integrity_check")).toBe("ok");
    return nativeValue(db, "SELECT count(*) FROM t");
  } finally {
    db.close();
  }
}

describe("rekeyDatabase (Node, file:)", () => {
  it("encrypts a plain database, changes its key and format, and decrypts it again", async () => {
    const path = await plainDatabase("chain.db");
    const url = `file:${path}`;
    await rekeyDatabase(url, { encryptionKey: "first-key" });
    expect(filesWithText(dir, MARKER)).toEqual([]);
    expect(nativeCount(path, "first-key")).toBe(ROWS);

    await rekeyDatabase({ url, encryptionKey: "first-key" }, { encryptionKey: "second-key" });
    expect(nativeCount(path, "second-key")).toBe(ROWS);
    await expect(webCount(path, "first-key")).rejects.toMatchObject({ extendedCode: "ENCRYPTION_KEY_WRONG" });

    await rekeyDatabase(
      { url, encryptionKey: "second-key" },
      { encryptionKey: "third-key", encryptionFormat: "authenticated" },
    );
    expect(filesWithText(dir, MARKER)).toEqual([]);
    expect(await webCount(path, "third-key", "authenticated")).toBe(ROWS);

    await rekeyDatabase(
      { url, encryptionKey: "third-key", encryptionFormat: "authenticated" },
      { encryptionKey: null },
    );
    expect(readFileSync(path).subarray(0, 15).toString()).toBe("SQLite format 3");
    expect(nativeCount(path)).toBe(ROWS);
    // Only the database is left: no new file, commit record, journal or lock file.
    expect(readdirSync(dir)).toEqual(["chain.db"]);
  });

  it("re-encrypts a database in native libSQL's format that native libSQL opens, from either format", async () => {
    const path = await plainDatabase("to-native.db");
    await rekeyDatabase(`file:${path}`, { encryptionKey: "k", encryptionFormat: "authenticated" });
    // From the authenticated format the 32 reserved bytes per page stay (VACUUM INTO keeps them); native does not mind.
    await rekeyDatabase(
      { url: `file:${path}`, encryptionKey: "k", encryptionFormat: "authenticated" },
      { encryptionKey: "native-key" },
    );
    expect(readFileSync(path)[20]).toBe(32);
    const native = openNative(path, "native-key");
    native.exec("INSERT INTO t(v) VALUES ('natively')");
    native.close();
    expect(await webCount(path, "native-key")).toBe(ROWS + 1);
  });

  it("is refused while the database is open here, and with a wrong current key", async () => {
    const path = await plainDatabase("busy.db");
    await rekeyDatabase(`file:${path}`, { encryptionKey: "k1" });
    const client = createClient({ url: `file:${path}`, encryptionKey: "k1" });
    await client.execute("SELECT 1 FROM t LIMIT 1");
    await expect(
      rekeyDatabase({ url: `file:${path}`, encryptionKey: "k1" }, { encryptionKey: "k2" }),
    ).rejects.toMatchObject({
      code: "STORAGE_BUSY",
    });
    // close() lets go of the database in the background; disposing waits for it.
    await client[Symbol.asyncDispose]();
    await expect(
      rekeyDatabase({ url: `file:${path}`, encryptionKey: "nope" }, { encryptionKey: "k2" }),
    ).rejects.toMatchObject({
      code: "SQLITE_NOTADB",
      extendedCode: "ENCRYPTION_KEY_WRONG",
    });
    await expect(rekeyDatabase(`file:${path}`, { encryptionKey: "k2" })).rejects.toMatchObject({
      code: "SQLITE_NOTADB",
      extendedCode: "ENCRYPTION_KEY_MISSING",
    });
    await expect(rekeyDatabase(`file:${join(dir, "missing.db")}`, { encryptionKey: "k2" })).rejects.toMatchObject({
      code: "SQLITE_CANTOPEN",
    });
    expect(nativeCount(path, "k1")).toBe(ROWS);
  });

  it("waits for another process's transaction, then fails with SQLITE_BUSY", { timeout: 60_000 }, async () => {
    const path = join(dir, "other-process.db");
    let waited = 0;
    // The child is stopped inside its write transaction, holding the database's lock.
    await crashChild(["web", path, "10", "key"], async () => {
      const started = Date.now();
      await expect(
        rekeyDatabase({ url: `file:${path}`, encryptionKey: "key", timeout: 300 }, { encryptionKey: "other" }),
      ).rejects.toMatchObject({ code: "SQLITE_BUSY" });
      waited = Date.now() - started;
    });
    expect(waited).toBeGreaterThanOrEqual(300);
    // Its transaction is rolled back by the next open; the old key still opens the database.
    expect(await webCount(path, "key")).toBe(10);
  });

  it("leaves the database under one of the two keys when its process is killed at any moment of a key change", {
    timeout: 120_000,
  }, async () => {
    const path = await plainDatabase("killed.db");
    await rekeyDatabase(`file:${path}`, { encryptionKey: "key-A" });
    const rounds = 12;
    const seen = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const child = spawnCrashChild(["rekey", path, "-", "key-A", "key-B"]);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, (round * 37) % 300));
      child.kill("SIGKILL");
      await exited;
      const leftovers = readdirSync(dir)
        .filter((name) => name.includes("-rekey"))
        .sort();
      let key = "key-A";
      let count: unknown;
      try {
        count = await webCount(path, key);
      } catch (error) {
        expect(error, `round ${round}`).toMatchObject({ extendedCode: "ENCRYPTION_KEY_WRONG" });
        key = "key-B";
        count = await webCount(path, key);
      }
      expect(count, `round ${round}`).toBe(ROWS);
      expect(readdirSync(dir).filter((name) => name.includes("-rekey"))).toEqual([]);
      seen.add(`${key} ${leftovers.join(",")}`);
      // The next child starts from key A again.
      if (key === "key-B")
        await rekeyDatabase({ url: `file:${path}`, encryptionKey: "key-B" }, { encryptionKey: "key-A" });
    }
    expect(filesWithText(dir, MARKER)).toEqual([]);
    console.log(`killed key changes: ${[...seen].join(" | ")}`);
  });

  describe("after a crash", () => {
    /** The database encrypted with `old`, and the bytes it has after a completed change to `next`. */
    async function versions(name: string) {
      const path = await plainDatabase(name);
      await rekeyDatabase(`file:${path}`, { encryptionKey: "old" });
      const before = readFileSync(path);
      await rekeyDatabase({ url: `file:${path}`, encryptionKey: "old" }, { encryptionKey: "next" });
      const after = readFileSync(path);
      return { path, before, after };
    }

    it("before the commit record: the old database, and the new file is gone", async () => {
      const { path, before, after } = await versions("uncommitted.db");
      writeFileSync(path, before);
      writeFileSync(`${path}-rekey`, after.subarray(0, after.length / 2));
      expect(await webCount(path, "old")).toBe(ROWS);
      expect(existsSync(`${path}-rekey`)).toBe(false);
      await expect(webCount(path, "next")).rejects.toMatchObject({ extendedCode: "ENCRYPTION_KEY_WRONG" });
    });

    it("with the owner file of the new file's lock left by a killed process: swept at the next open", async () => {
      const { path, before, after } = await versions("litter.db");
      writeFileSync(path, before);
      writeFileSync(`${path}-rekey`, after.subarray(0, after.length / 2));
      // What a process killed between writing its lock's owner file and linking it into place leaves (dot-lock.ts).
      const child = spawn(process.execPath, ["-e", ""]);
      await new Promise((resolve) => child.once("exit", resolve));
      writeFileSync(
        `${path}-rekey.lock.${child.pid}.${"0f".repeat(12)}`,
        `${child.pid}\n${"0f".repeat(12)}\n${hostname()}\n`,
      );
      // Killed before its owner line was written.
      writeFileSync(`${path}-rekey.lock.${child.pid}.${"1e".repeat(12)}`, "");
      expect(await webCount(path, "old")).toBe(ROWS);
      expect(readdirSync(dir).filter((name) => name.includes("-rekey"))).toEqual([]);
    });

    it("with a torn commit record: the old database", async () => {
      const { path, before, after } = await versions("torn.db");
      writeFileSync(path, before);
      writeFileSync(`${path}-rekey`, after);
      writeFileSync(`${path}-rekey-commit`, commitRecord(after.length).subarray(0, 30));
      expect(await webCount(path, "old")).toBe(ROWS);
      expect(readdirSync(dir).sort()).toEqual(["torn.db"]);
    });

    it("halfway through the copy: the next open finishes it, and the new key opens the database", async () => {
      const { path, before, after } = await versions("committed.db");
      const half = Buffer.concat([after.subarray(0, 4096 * 3), before.subarray(4096 * 3)]);
      writeFileSync(path, half);
      writeFileSync(`${path}-rekey`, after);
      writeFileSync(`${path}-rekey-commit`, commitRecord(after.length));
      expect(await webCount(path, "next")).toBe(ROWS);
      expect(readFileSync(path).equals(after)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(["committed.db"]);
      expect(nativeCount(path, "next")).toBe(ROWS);
    });
  });
});
