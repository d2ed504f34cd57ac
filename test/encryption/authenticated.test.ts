import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReceivedRows } from "../../src/proto.js";
import { AuthenticatedCodec } from "../../worker/crypto/authenticated-codec.js";
import type { Engine } from "../../worker/engine.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { encryptFile, FIXTURE_SUMMARY_SQL, reservedDatabase } from "../crypto/crypto-fixtures.js";
import { openWeb } from "./helpers.js";

const KEY = "authenticated-key-0123";
/** A cheap Argon2id, stored in the file, so that the sweep below can reopen it hundreds of times. */
const CHEAP = { m: 64, t: 1, p: 1 };
const PAGE = 4096;

let dir: string;
let file: Uint8Array;
let summary: unknown[];
/** One engine for every open (each database closes before the next opens). */
let engine: Engine<ReceivedRows>;
beforeAll(async () => {
  engine = createNodeEngine();
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-auth-"));
  file = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), await reservedDatabase(PAGE, 32));
  const db = await openWeb(write("pristine.db", file), { key: KEY, format: "authenticated" });
  summary = (await db.run(FIXTURE_SUMMARY_SQL)).rows[0] as unknown[];
  await db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Opens `path` and reads every page (a full scan and integrity_check); the error, or null if all went through. */
async function readAll(path: string): Promise<unknown> {
  try {
    const db = await openWeb(path, { key: KEY, format: "authenticated" }, engine);
    try {
      expect((await db.run(FIXTURE_SUMMARY_SQL)).rows[0]).toEqual(summary);
      expect(await db.value("PRAGMA integrity_check")).toBe("ok");
    } finally {
      await db.close();
    }
    return null;
  } catch (error) {
    return error;
  }
}

describe("the authenticated format detects changes made outside SQLite", () => {
  it("a flipped bit anywhere in any page fails the read with ENCRYPTION_TAMPERED", { timeout: 120_000 }, async () => {
    const pages = file.length / PAGE;
    let checked = 0;
    for (let page = 1; page <= pages; page++) {
      // Start, middle and end of the ciphertext, the tag, the nonce; on page 1 also the clear header bytes.
      const offsets = [24, 1234, PAGE - 33, PAGE - 20, PAGE - 1];
      if (page === 1) offsets.push(18, 19, 60, 100);
      for (const offset of offsets) {
        const changed = file.slice();
        changed[(page - 1) * PAGE + offset] ^= 0x10;
        const error = await readAll(write("tampered.db", changed));
        expect(error, `page ${page}, byte ${offset}`).toMatchObject({
          code: "ENCRYPTION_TAMPERED",
          rawCode: 522 + 7680,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("a changed salt or KDF descriptor in page 1 cannot be told from a wrong key, and is refused as one", async () => {
    // Page 1 bytes 0..15 (salt) and 72..91 (format, Argon2id parameters, key check) are what the key is derived
    // and checked with, before anything can be authenticated.
    for (const offset of [0, 15, 72, 77, 82, 85, 91]) {
      const changed = file.slice();
      changed[offset] ^= 0x10;
      const error = await readAll(write("descriptor.db", changed));
      expect(error, `byte ${offset}`).toMatchObject({ code: "SQLITE_NOTADB" });
      expect(["ENCRYPTION_KEY_WRONG", "ENCRYPTION_FORMAT_UNSUPPORTED", "ENCRYPTION_FORMAT_MISMATCH"]).toContain(
        (error as { extendedCode: string }).extendedCode,
      );
    }
  });

  it("a page swapped with another, or the clear header bytes changed, is refused", async () => {
    const swapped = file.slice();
    swapped.set(file.subarray(PAGE * 2, PAGE * 3), PAGE * 3);
    swapped.set(file.subarray(PAGE * 3, PAGE * 4), PAGE * 2);
    expect(await readAll(write("swapped.db", swapped))).toMatchObject({ code: "ENCRYPTION_TAMPERED" });
    // Bytes 16..23 are clear (page size, reserve): changed, the file is no longer this format at all.
    for (const offset of [16, 17, 20, 21, 23]) {
      const changed = file.slice();
      changed[offset] ^= 0x01;
      const error = (await readAll(write("header.db", changed))) as { code?: string } | null;
      expect(["ENCRYPTION_TAMPERED", "SQLITE_NOTADB"], `byte ${offset}`).toContain(error?.code);
    }
    expect(await readAll(write("intact.db", file))).toBeNull();
  });

  it("end to end, with the default Argon2id: a database written here, then changed on disk", async () => {
    const path = join(dir, "e2e.db");
    const db = await openWeb(path, { key: KEY, format: "authenticated" });
    await db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    await db.run(
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO t(v) SELECT 'value-' || i FROM c",
    );
    await db.close();
    const bytes = readFileSync(path);
    expect(bytes[20]).toBe(32);
    bytes[PAGE * 5 + 700] ^= 0x01;
    writeFileSync(path, bytes);
    const again = await openWeb(path, { key: KEY, format: "authenticated" });
    try {
      await expect(again.run("SELECT count(*), sum(length(v)) FROM t")).rejects.toMatchObject({
        code: "ENCRYPTION_TAMPERED",
        extendedCode: "SQLITE_IOERR_DATA",
        message: expect.stringContaining("page 6"),
      });
    } finally {
      await again.close();
    }
  });
});
