import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDatabaseFormat } from "../../worker/crypto/database-header.js";
import { longKeyWarning } from "../../worker/crypto/encryption-key.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import {
  decryptFile,
  encryptFile,
  FIXTURE_SQL,
  FIXTURE_SUMMARY_SQL,
  nativeRow,
  openNative,
  pageSizeOf,
  plainRow,
  tempDir,
} from "./crypto-fixtures.js";

const KEY = "interop-test-key-0123";
const noWarnings = (message: string) => {
  throw new Error(`unexpected warning: ${message}`);
};

let dir: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, remove } = tempDir());
});
afterAll(() => remove());

/** Makes a database with native libSQL (encrypted when `key` is set) and returns its bytes and summary. */
function nativeDatabase(name: string, key: string | undefined, pageSize: number) {
  const path = join(dir, name);
  const db = openNative(path, key);
  db.exec(`PRAGMA page_size = ${pageSize}`);
  db.exec(FIXTURE_SQL);
  // A second transaction goes through the rollback journal and rewrites page 1.
  db.exec("UPDATE items SET qty = qty + 1 WHERE id % 7 = 0; DELETE FROM items WHERE id % 11 = 0");
  const summary = nativeRow(db, FIXTURE_SUMMARY_SQL);
  db.close();
  return { path, bytes: new Uint8Array(readFileSync(path)), summary };
}

const plainSummary = (bytes: Uint8Array) => plainRow(dir, bytes, FIXTURE_SUMMARY_SQL);

describe("native libSQL aes256cbc files, page by page", () => {
  for (const pageSize of [512, 4096, 65536]) {
    it(`decrypts a native file (page size ${pageSize}) into a valid SQLite file, and re-encrypts it byte for byte`, () => {
      const native = nativeDatabase(`native-${pageSize}.db`, KEY, pageSize);
      expect(pageSizeOf(native.bytes)).toBe(pageSize);
      expect(detectDatabaseFormat(native.bytes.subarray(0, 100))).toBe("wx-aes256cbc");
      const codec = WxAes256CbcCodec.fromKey(KEY, noWarnings);
      const plain = decryptFile(codec, native.bytes);
      expect(detectDatabaseFormat(plain.subarray(0, 100))).toBe("plain");
      expect(plainSummary(plain)).toEqual(native.summary);
      expect(Buffer.from(encryptFile(codec, plain)).equals(Buffer.from(native.bytes))).toBe(true);
    });
  }

  for (const pageSize of [1024, 8192]) {
    it(`encrypts a plain file (page size ${pageSize}) that native libSQL opens with the key and can change`, () => {
      const path = join(dir, `plain-${pageSize}.db`);
      const plainDb = openNative(path);
      plainDb.exec(`PRAGMA page_size = ${pageSize}`);
      plainDb.exec(FIXTURE_SQL);
      const summary = nativeRow(plainDb, FIXTURE_SUMMARY_SQL);
      plainDb.close();

      const codec = WxAes256CbcCodec.fromKey(KEY, noWarnings);
      const encrypted = encryptFile(codec, new Uint8Array(readFileSync(path)));
      const encryptedPath = join(dir, `encrypted-${pageSize}.db`);
      writeFileSync(encryptedPath, encrypted);

      const db = openNative(encryptedPath, KEY);
      expect(nativeRow(db, "PRAGMA integrity_check")).toEqual({ integrity_check: "ok" });
      expect(nativeRow(db, FIXTURE_SUMMARY_SQL)).toEqual(summary);
      db.exec("INSERT INTO items(name, qty, data) VALUES ('written-natively', 42, x'00ff')");
      const after = nativeRow(db, FIXTURE_SUMMARY_SQL);
      db.close();

      const changed = decryptFile(codec, new Uint8Array(readFileSync(encryptedPath)));
      expect(plainSummary(changed)).toEqual(after);
    });
  }

  it("uses the UTF-8 bytes of the key, as native does", () => {
    const key = "pässwörd-🔑-ключ";
    const native = nativeDatabase("unicode.db", key, 4096);
    const plain = decryptFile(WxAes256CbcCodec.fromKey(key, noWarnings), native.bytes);
    expect(plainSummary(plain)).toEqual(native.summary);
  });

  it("ignores key bytes past the 32nd as native does, with a warning that does not hold the key", () => {
    const longKey = `${"k".repeat(32)}-the-tail-native-ignores`;
    const native = nativeDatabase("long-key.db", longKey, 4096);
    const warnings: string[] = [];
    const otherTail = WxAes256CbcCodec.fromKey(`${"k".repeat(32)}#a-different-tail`, (m) => warnings.push(m));
    expect(plainSummary(decryptFile(otherTail, native.bytes))).toEqual(native.summary);
    expect(warnings).toEqual([longKeyWarning]);
    expect(warnings[0]).not.toContain("k".repeat(32));
    // Exactly 32 bytes is no warning.
    WxAes256CbcCodec.fromKey("k".repeat(32), noWarnings);
  });

  it("matches decryptRange with whole-page decryption on random ranges, page 1 included", () => {
    const native = nativeDatabase("ranges.db", KEY, 4096);
    const codec = WxAes256CbcCodec.fromKey(KEY, noWarnings);
    const plain = decryptFile(codec, native.bytes);
    const pages = native.bytes.length / 4096;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: pages }),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 1, max: 4096 }),
        (pageNo, offset, wanted) => {
          const length = Math.min(wanted, 4096 - offset);
          const out = new Uint8Array(length);
          codec.decryptRange(pageNo, native.bytes.subarray((pageNo - 1) * 4096, pageNo * 4096), offset, out);
          const start = (pageNo - 1) * 4096 + offset;
          expect(Buffer.from(out).equals(Buffer.from(plain.subarray(start, start + length)))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
    // SQLite's two header reads: 100 bytes at 0 when opening, 16 at 24 at each read-transaction start.
    for (const [offset, length] of [
      [0, 100],
      [24, 16],
    ] as const) {
      const out = new Uint8Array(length);
      codec.decryptRange(1, native.bytes.subarray(0, 4096), offset, out);
      expect(Buffer.from(out).equals(Buffer.from(plain.subarray(offset, offset + length)))).toBe(true);
    }
  });

  it("decrypts in place and through unaligned buffers", () => {
    const native = nativeDatabase("buffers.db", KEY, 4096);
    const codec = WxAes256CbcCodec.fromKey(KEY, noWarnings);
    const expected = decryptFile(codec, native.bytes);
    for (const pageNo of [1, 2, 3]) {
      const cipher = native.bytes.slice((pageNo - 1) * 4096, pageNo * 4096);
      const want = expected.subarray((pageNo - 1) * 4096, pageNo * 4096);
      const inPlace = cipher.slice();
      codec.decryptPage(pageNo, inPlace, inPlace);
      expect(Buffer.from(inPlace).equals(Buffer.from(want))).toBe(true);
      const unaligned = new Uint8Array(4096 + 3).subarray(3);
      codec.decryptPage(pageNo, cipher, unaligned);
      expect(Buffer.from(unaligned).equals(Buffer.from(want))).toBe(true);
      const back = new Uint8Array(4096 + 1).subarray(1);
      codec.encryptPage(pageNo, unaligned, back);
      expect(Buffer.from(back).equals(Buffer.from(cipher))).toBe(true);
      codec.encryptPage(pageNo, inPlace, inPlace);
      expect(Buffer.from(inPlace).equals(Buffer.from(cipher))).toBe(true);
    }
  });

  it("reports a wrong key, a plain file and a foreign file as SQLITE_NOTADB with the reason", () => {
    const native = nativeDatabase("wrong-key.db", KEY, 4096);
    const page1 = native.bytes.subarray(0, 4096);
    const wrong = WxAes256CbcCodec.fromKey("not-the-key", noWarnings);
    const reasons = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        const error = e as { code: string; extendedCode: string; rawCode: number };
        return [error.code, error.extendedCode, error.rawCode];
      }
      return "no error";
    };
    const wrongKey = ["SQLITE_NOTADB", "ENCRYPTION_KEY_WRONG", 26];
    expect(reasons(() => wrong.decryptPage(1, page1, new Uint8Array(4096)))).toEqual(wrongKey);
    expect(reasons(() => wrong.decryptRange(1, page1, 24, new Uint8Array(16)))).toEqual(wrongKey);
    expect(reasons(() => wrong.verifyKey(page1.subarray(0, 100)))).toEqual(wrongKey);
    const right = WxAes256CbcCodec.fromKey(KEY, noWarnings);
    right.verifyKey(page1.subarray(0, 100));
    const plain = decryptFile(right, native.bytes).subarray(0, 4096);
    expect(reasons(() => right.verifyKey(plain))).toEqual(["SQLITE_NOTADB", "ENCRYPTION_NOT_ENCRYPTED", 26]);
    expect(reasons(() => right.decryptPage(1, plain, new Uint8Array(4096)))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_NOT_ENCRYPTED",
      26,
    ]);
    const noise = new Uint8Array(4096).fill(0x5a);
    expect(reasons(() => right.verifyKey(noise))).toEqual(["SQLITE_NOTADB", "ENCRYPTION_FORMAT_MISMATCH", 26]);
  });
});
