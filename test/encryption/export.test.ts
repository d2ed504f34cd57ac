import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MARKER, nativeValue, openNative, openWeb } from "./helpers.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-export-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const has = (bytes: Uint8Array, text: string) => Buffer.from(bytes).includes(Buffer.from(text));

async function filled(name: string, key: string, format: "libsql" | "authenticated") {
  const path = join(dir, name);
  const db = await openWeb(path, { key, format });
  await db.run("CREATE TABLE t(v TEXT)");
  await db.run(
    `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500) INSERT INTO t SELECT '${MARKER}-' || i FROM c`,
  );
  return { path, db };
}

describe("exporting an encrypted database", () => {
  it("gives the file as it is kept by default (libsql format: byte for byte), plain on request", async () => {
    const { path, db } = await filled("wx.db", "export-key", "libsql");
    try {
      const exported = await db.engine.exportDatabase(db.conn);
      expect(Buffer.from(exported).equals(readFileSync(path))).toBe(true);
      expect(has(exported, MARKER)).toBe(false);
      const plain = await db.engine.exportDatabase(db.conn, { decrypt: true });
      expect(Buffer.from(plain.subarray(0, 15)).toString()).toBe("SQLite format 3");
      const copy = join(dir, "plain-copy.db");
      writeFileSync(copy, plain);
      const native = openNative(copy);
      expect(nativeValue(native, "SELECT count(*) FROM t")).toBe(500);
      native.close();
    } finally {
      await db.close();
    }
  });

  it("authenticated: encrypted with the same key and salt (fresh nonces), or plain with its reserved bytes", async () => {
    const { path, db } = await filled("auth.db", "export-key", "authenticated");
    let exported: Uint8Array;
    try {
      exported = await db.engine.exportDatabase(db.conn);
      expect(has(exported, MARKER)).toBe(false);
      expect(Buffer.from(exported.subarray(0, 24)).equals(readFileSync(path).subarray(0, 24))).toBe(true);
      const plain = await db.engine.exportDatabase(db.conn, { decrypt: true });
      expect(has(plain, MARKER)).toBe(true);
      expect(plain[20]).toBe(32);
    } finally {
      await db.close();
    }
    const copy = join(dir, "auth-copy.db");
    writeFileSync(copy, exported);
    const again = await openWeb(copy, { key: "export-key", format: "authenticated" });
    expect(await again.value("SELECT count(*) FROM t")).toBe(500);
    expect(await again.value("PRAGMA integrity_check")).toBe("ok");
    await again.close();
  });
});
