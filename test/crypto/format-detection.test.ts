import { beforeAll, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { AuthenticatedCodec } from "../../worker/crypto/authenticated-codec.js";
import { detectDatabaseFormat, headerPageSize } from "../../worker/crypto/database-header.js";
import { EncryptionErrorCode, notADatabaseError, tamperedError } from "../../worker/crypto/encryption-errors.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import { encryptFile, reservedDatabase } from "./crypto-fixtures.js";

const CHEAP = { m: 64, t: 1, p: 1 };

describe("format detection, error shapes and key wiping", () => {
  let withReserve: Uint8Array;
  let plain: Uint8Array;
  beforeAll(async () => {
    withReserve = await reservedDatabase(4096, 32);
    plain = withReserve.slice();
    plain[20] = 0;
  });

  it("classifies the first 100 bytes of a file", () => {
    const native = encryptFile(WxAes256CbcCodec.fromKey("k"), plain);
    const authenticated = encryptFile(AuthenticatedCodec.create("k", CHEAP), withReserve);
    expect(detectDatabaseFormat(new Uint8Array(0))).toBe("empty");
    expect(detectDatabaseFormat(new Uint8Array(100))).toBe("empty");
    expect(detectDatabaseFormat(plain.subarray(0, 100))).toBe("plain");
    expect(detectDatabaseFormat(native.subarray(0, 100))).toBe("wx-aes256cbc");
    expect(detectDatabaseFormat(authenticated.subarray(0, 100))).toBe("authenticated");
    expect(detectDatabaseFormat(new Uint8Array(100).fill(0x33))).toBe("unknown");
    expect(detectDatabaseFormat(native.subarray(0, 50))).toBe("unknown");
  });

  it("reads page sizes the way SQLite stores them", () => {
    const header = new Uint8Array(24);
    for (const [hi, lo, size] of [
      [0x02, 0x00, 512],
      [0x10, 0x00, 4096],
      [0x00, 0x01, 65536],
      [0x03, 0x00, 0],
      [0x01, 0x00, 0],
    ] as const) {
      header[16] = hi;
      header[17] = lo;
      expect(headerPageSize(header)).toBe(size);
    }
  });

  it("gives stable codes: SQLITE_NOTADB (26) with a reason, ENCRYPTION_TAMPERED with SQLITE_IOERR_DATA", () => {
    for (const reason of Object.values(EncryptionErrorCode).filter(
      (c) => c !== "ENCRYPTION_TAMPERED" && c !== "ENCRYPTION_KEY_INVALID",
    )) {
      const error = notADatabaseError(reason as Parameters<typeof notADatabaseError>[0]);
      expect(error).toBeInstanceOf(LibsqlError);
      expect([error.code, error.extendedCode, error.rawCode]).toEqual(["SQLITE_NOTADB", reason, 26]);
      expect(error.message).toMatch(/^SQLITE_NOTADB: file is not a database \(/);
    }
    const tampered = tamperedError(7);
    expect([tampered.code, tampered.extendedCode, tampered.rawCode]).toEqual([
      "ENCRYPTION_TAMPERED",
      "SQLITE_IOERR_DATA",
      8202,
    ]);
  });

  it("stops decrypting once a codec is disposed", () => {
    const native = WxAes256CbcCodec.fromKey("k");
    const nativeFile = encryptFile(native, plain);
    native.dispose();
    expect(() => native.decryptPage(1, nativeFile.subarray(0, 4096), new Uint8Array(4096))).toThrow(
      /key does not match/,
    );
    const auth = AuthenticatedCodec.create("k", CHEAP);
    const authFile = encryptFile(auth, withReserve);
    auth.dispose();
    expect(() => auth.decryptPage(2, authFile.subarray(4096, 8192), new Uint8Array(4096))).toThrow(/authentication/);
  });
});
