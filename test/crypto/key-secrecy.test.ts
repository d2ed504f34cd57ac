import { beforeAll, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { AuthenticatedCodec } from "../../worker/crypto/authenticated-codec.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import { encryptFile, reservedDatabase } from "./crypto-fixtures.js";

const SECRET = "Zq7-secret-marker-Kx9";
const LONG_SECRET = `${SECRET}-and-a-tail-that-makes-it-longer-than-32-bytes`;
const CHEAP = { m: 64, t: 1, p: 1 };

/** Every form of the key an error could carry. */
function forms(key: string): string[] {
  const bytes = Buffer.from(key, "utf8");
  return [key, key.slice(0, 12), bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")];
}

/** Message, stack, string form, JSON and the whole cause chain of a thrown value. */
function texts(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null) {
    parts.push(String(current), JSON.stringify(current) ?? "");
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? "");
      current = current.cause;
    } else {
      current = undefined;
    }
  }
  return parts.join("\n");
}

describe("keys never appear in errors or warnings", () => {
  let wxFile: Uint8Array;
  let authFile: Uint8Array;
  let plainFile: Uint8Array;
  beforeAll(async () => {
    const withReserve = await reservedDatabase(4096, 32);
    plainFile = withReserve.slice();
    plainFile[20] = 0;
    wxFile = encryptFile(WxAes256CbcCodec.fromKey(SECRET), plainFile);
    authFile = encryptFile(AuthenticatedCodec.create(SECRET, CHEAP), withReserve);
  });

  it("in every failure path of both codecs", () => {
    const warnings: string[] = [];
    const wx = WxAes256CbcCodec.fromKey(LONG_SECRET, (m) => warnings.push(m));
    const wxRight = WxAes256CbcCodec.fromKey(SECRET);
    const auth = AuthenticatedCodec.open(SECRET, authFile.subarray(0, 100));
    const tampered = authFile.slice(4096, 8192);
    tampered[100] ^= 1;
    const out = new Uint8Array(4096);
    const failures: (() => unknown)[] = [
      () => WxAes256CbcCodec.fromKey(""),
      () => WxAes256CbcCodec.fromKey(42 as unknown as string),
      () => wx.decryptPage(1, wxFile.subarray(0, 4096), out),
      () => wx.verifyKey(wxFile.subarray(0, 100)),
      () => wxRight.verifyKey(plainFile.subarray(0, 100)),
      () => wxRight.verifyKey(authFile.subarray(0, 16)),
      () => wxRight.decryptRange(2, wxFile.subarray(4096, 8192), 4000, new Uint8Array(200)),
      () => wxRight.encryptPage(1, new Uint8Array(4096), out),
      () => AuthenticatedCodec.open(LONG_SECRET, authFile.subarray(0, 100)),
      () => AuthenticatedCodec.open(SECRET, wxFile.subarray(0, 100)),
      () => AuthenticatedCodec.open(SECRET, plainFile.subarray(0, 100)),
      () => AuthenticatedCodec.open("", authFile.subarray(0, 100)),
      () => AuthenticatedCodec.create(SECRET, { m: 0, t: 0, p: 0 }),
      () => auth.decryptPage(2, tampered, out),
      () => auth.decryptPage(3, authFile.subarray(4096, 8192), out),
      () => auth.encryptPage(1, plainFile.subarray(0, 4096), out),
    ];
    const leaked: string[] = [];
    for (const [index, fail] of failures.entries()) {
      let thrown: unknown;
      try {
        fail();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `failure ${index} must throw`).toBeInstanceOf(Error);
      if (!(thrown instanceof LibsqlError) && !(thrown instanceof RangeError)) throw thrown;
      const text = texts(thrown);
      for (const form of [...forms(SECRET), ...forms(LONG_SECRET)])
        if (text.includes(form)) leaked.push(`${index}: ${form}`);
    }
    expect(warnings).toHaveLength(1);
    for (const form of forms(LONG_SECRET)) expect(warnings[0]).not.toContain(form);
    expect(leaked).toEqual([]);
  });
});
