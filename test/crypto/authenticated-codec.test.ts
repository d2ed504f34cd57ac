import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { AuthenticatedCodec, DEFAULT_ARGON2ID } from "../../worker/crypto/authenticated-codec.js";
import { detectDatabaseFormat } from "../../worker/crypto/database-header.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import {
  decryptFile,
  encryptFile,
  FIXTURE_SUMMARY_SQL,
  openNative,
  pageSizeOf,
  plainRow,
  reservedDatabase,
  tempDir,
} from "./crypto-fixtures.js";

const KEY = "authenticated-test-key";
/** Cheap Argon2id for tests; the parameters are stored in the file, so opening uses them. */
const CHEAP = { m: 64, t: 1, p: 1 };

const codeOf = (fn: () => void): string[] => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof LibsqlError)) throw e;
    return [e.code, e.extendedCode ?? ""];
  }
  return ["no error"];
};
const TAMPERED = ["ENCRYPTION_TAMPERED", "SQLITE_IOERR_DATA"];

let dir: string;
let remove: () => void;
const plain = new Map<number, Uint8Array>();
beforeAll(async () => {
  ({ dir, remove } = tempDir());
  for (const pageSize of [512, 4096, 65536]) plain.set(pageSize, await reservedDatabase(pageSize, 32));
});
afterAll(() => remove());

const page = (file: Uint8Array, pageNo: number) => {
  const size = pageSizeOf(file);
  return file.subarray((pageNo - 1) * size, pageNo * size);
};

describe("authenticated codec (XChaCha20-Poly1305, reserve 32, Argon2id)", () => {
  it("gets a database with 32 reserved bytes from SQLITE_FCNTL_RESERVE_BYTES, tails untouched by SQLite", () => {
    const file = plain.get(4096)!;
    expect(file[20]).toBe(32);
    for (let n = 1; n <= file.length / 4096; n++)
      expect(
        page(file, n)
          .subarray(4096 - 32)
          .every((b) => b === 0),
      ).toBe(true);
  });

  for (const pageSize of [512, 4096, 65536]) {
    it(`round-trips a database with page size ${pageSize}: valid SQLite again, identical bytes`, () => {
      const original = plain.get(pageSize)!;
      const encrypted = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), original);
      expect(detectDatabaseFormat(encrypted.subarray(0, 100))).toBe("authenticated");
      expect(encrypted[20]).toBe(32);
      expect(Buffer.from(encrypted).includes(Buffer.from("item-1"))).toBe(false);
      const decrypted = decryptFile(AuthenticatedCodec.open(KEY, encrypted.subarray(0, 100)), encrypted);
      expect(Buffer.from(decrypted).equals(Buffer.from(original))).toBe(true);
      expect(plainRow(dir, decrypted, FIXTURE_SUMMARY_SQL)).toMatchObject({ n: 1500 });
    });
  }

  it("uses a fresh nonce for every write of the same page", () => {
    const codec = AuthenticatedCodec.create(KEY, CHEAP);
    const source = page(plain.get(4096)!, 3);
    const a = new Uint8Array(4096);
    const b = new Uint8Array(4096);
    codec.encryptPage(3, source, a);
    codec.encryptPage(3, source, b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    for (const cipher of [a, b]) {
      const out = new Uint8Array(4096);
      codec.decryptPage(3, cipher, out);
      expect(Buffer.from(out).equals(Buffer.from(source))).toBe(true);
    }
  });

  it("detects a flipped bit at every byte of a page, nonce and tag included", () => {
    for (const pageSize of [512, 4096]) {
      const encrypted = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(pageSize)!);
      const codec = AuthenticatedCodec.open(KEY, encrypted.subarray(0, 100));
      const pages = encrypted.length / pageSize;
      const chosen = [1, 2, Math.ceil(pages / 2), pages];
      const out = new Uint8Array(pageSize);
      for (const pageNo of chosen) {
        const cipher = page(encrypted, pageNo).slice();
        codec.decryptPage(pageNo, cipher, out);
        for (let at = 0; at < pageSize; at++) {
          cipher[at] ^= 1 << (at % 8);
          expect(
            codeOf(() => codec.decryptPage(pageNo, cipher, out)),
            `page ${pageNo} byte ${at}`,
          ).toEqual(TAMPERED);
          cipher[at] ^= 1 << (at % 8);
        }
      }
    }
  });

  it("detects a page moved or swapped to another page number", () => {
    const encrypted = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(4096)!);
    const codec = AuthenticatedCodec.open(KEY, encrypted.subarray(0, 100));
    const out = new Uint8Array(4096);
    expect(codeOf(() => codec.decryptPage(5, page(encrypted, 4), out))).toEqual(TAMPERED);
    expect(codeOf(() => codec.decryptPage(4, page(encrypted, 5), out))).toEqual(TAMPERED);
    expect(codeOf(() => codec.decryptPage(1, page(encrypted, 2), out))).toEqual(TAMPERED);
    expect(codeOf(() => codec.decryptPage(2, page(encrypted, 1), out))).toEqual(TAMPERED);
    // A page of another database with the same key: another salt, so another page key.
    const other = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(4096)!);
    expect(codeOf(() => codec.decryptPage(4, page(other, 4), out))).toEqual(TAMPERED);
    // Cut short: the VFS hands a zero-filled page to the codec only if SQLite expects data there.
    expect(codeOf(() => codec.decryptPage(4, new Uint8Array(4096), out))).toEqual(TAMPERED);
    expect(codeOf(() => codec.decryptRange(4, page(encrypted, 5), 24, new Uint8Array(16)))).toEqual(TAMPERED);
  });

  it("serves header reads from the authenticated page", () => {
    const encrypted = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(4096)!);
    const codec = AuthenticatedCodec.open(KEY, encrypted.subarray(0, 100));
    const decrypted = decryptFile(codec, encrypted);
    for (const [pageNo, offset, length] of [
      [1, 0, 100],
      [1, 24, 16],
      [3, 4000, 96],
    ] as const) {
      const out = new Uint8Array(length);
      codec.decryptRange(pageNo, page(encrypted, pageNo), offset, out);
      expect(Buffer.from(out).equals(Buffer.from(page(decrypted, pageNo).subarray(offset, offset + length)))).toBe(
        true,
      );
    }
    // The remembered page never hides a change: same page number, one bit different.
    const changed = page(encrypted, 1).slice();
    codec.decryptRange(1, changed, 24, new Uint8Array(16));
    changed[3000] ^= 4;
    expect(codeOf(() => codec.decryptRange(1, changed, 24, new Uint8Array(16)))).toEqual(TAMPERED);
    changed[3000] ^= 4;
    codec.decryptRange(1, changed, 24, new Uint8Array(16));
  });

  it("tells a wrong key, a plain file, a native-format file and an unknown format apart on open", () => {
    const encrypted = encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(4096)!);
    const head = encrypted.slice(0, 100);
    expect(codeOf(() => AuthenticatedCodec.open("wrong key", head))).toEqual(["SQLITE_NOTADB", "ENCRYPTION_KEY_WRONG"]);
    expect(codeOf(() => AuthenticatedCodec.open(KEY, plain.get(4096)!.subarray(0, 100)))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_NOT_ENCRYPTED",
    ]);
    const native = encryptFile(WxAes256CbcCodec.fromKey(KEY), plainWithoutReserve());
    expect(codeOf(() => AuthenticatedCodec.open(KEY, native.subarray(0, 100)))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_FORMAT_MISMATCH",
    ]);
    expect(codeOf(() => AuthenticatedCodec.open(KEY, new Uint8Array(100)))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_FORMAT_MISMATCH",
    ]);
    // Parameters a hostile file could use to exhaust memory are refused before any derivation.
    const greedy = head.slice();
    new DataView(greedy.buffer).setUint32(78, 1 << 30);
    expect(codeOf(() => AuthenticatedCodec.open(KEY, greedy))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_FORMAT_UNSUPPORTED",
    ]);
    const future = head.slice();
    future[76] = 2;
    expect(codeOf(() => AuthenticatedCodec.open(KEY, future))).toEqual([
      "SQLITE_NOTADB",
      "ENCRYPTION_FORMAT_UNSUPPORTED",
    ]);
    // The salt and parameters feed the key: changing them reads as a wrong key, never as success.
    const salted = head.slice();
    salted[3] ^= 0x10;
    expect(codeOf(() => AuthenticatedCodec.open(KEY, salted))).toEqual(["SQLITE_NOTADB", "ENCRYPTION_KEY_WRONG"]);
  });

  it("is not readable by native libSQL, with or without the key", () => {
    const path = join(dir, "authenticated.db");
    writeFileSync(path, encryptFile(AuthenticatedCodec.create(KEY, CHEAP), plain.get(4096)!));
    for (const key of [KEY, undefined]) {
      expect(() => {
        const db = openNative(path, key);
        try {
          db.prepare(FIXTURE_SUMMARY_SQL).get();
        } finally {
          db.close();
        }
      }).toThrow(/not a database/);
    }
  });

  it("refuses to write page 1 without the 32 reserved bytes, and bad page geometry", () => {
    const codec = AuthenticatedCodec.create(KEY, CHEAP);
    const noReserve = plainWithoutReserve();
    expect(codeOf(() => codec.encryptPage(1, noReserve.subarray(0, 4096), new Uint8Array(4096)))).toEqual([
      "INTERNAL_ERROR",
      "",
    ]);
    expect(codeOf(() => codec.encryptPage(2, new Uint8Array(1000), new Uint8Array(1000)))).toEqual([
      "INTERNAL_ERROR",
      "",
    ]);
    expect(codeOf(() => codec.encryptPage(0, new Uint8Array(4096), new Uint8Array(4096)))).toEqual([
      "INTERNAL_ERROR",
      "",
    ]);
    expect(() => AuthenticatedCodec.create(KEY, { m: 1 << 30, t: 1, p: 1 })).toThrow(RangeError);
  });

  it("derives with the default Argon2id parameters", () => {
    expect(DEFAULT_ARGON2ID).toEqual({ m: 19456, t: 2, p: 1 });
    const encrypted = encryptFile(AuthenticatedCodec.create(KEY), plain.get(4096)!);
    expect(new DataView(encrypted.buffer).getUint32(78)).toBe(19456);
    const decrypted = decryptFile(AuthenticatedCodec.open(KEY, encrypted.subarray(0, 100)), encrypted);
    expect(Buffer.from(decrypted).equals(Buffer.from(plain.get(4096)!))).toBe(true);
  });
});

/** The 4096-byte fixture with header byte 20 = 0: what a plain SQLite file has. */
function plainWithoutReserve(): Uint8Array {
  const copy = plain.get(4096)!.slice();
  copy[20] = 0;
  return copy;
}
