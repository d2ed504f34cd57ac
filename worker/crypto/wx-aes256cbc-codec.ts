import { cbc } from "@noble/ciphers/aes.js";
import { md5 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { isHeaderTail, SQLITE_MAGIC, startsWithMagic } from "./database-header.js";
import { codecMisuseError, EncryptionErrorCode, notADatabaseError } from "./encryption-errors.js";
import { type KeyWarning, NATIVE_KEY_BYTES, nativeKeyBytes } from "./encryption-key.js";
import { checkPageArgs, type PageCodec } from "./page-codec.js";

/** SQLite3 Multiple Ciphers' password padding (`cipher_common.c`), the PDF padding string. */
const PADDING = Uint8Array.from([
  0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08, 0x2e, 0x2e, 0x00,
  0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
]);

/** `CODEC_SHA_ITER`: hashes after the first; 4002 SHA-256 in all. SQLite3MC ignores `kdf_iter`. */
const SHA_ITERATIONS = 4001;

/** `"sAlT"`, appended to the page key input. */
const PAGE_SALT = [0x73, 0x41, 0x6c, 0x54];

const NO_PADDING = { disablePadding: true } as const;

/**
 * Native libSQL's on-disk encryption (`encryptionKey` in `libsql` /
 * `@libsql/client`): SQLite3 Multiple Ciphers cipher `aes256cbc`, non-legacy,
 * the wxSQLite3 scheme. AES-256-CBC per page, no MAC, no reserved bytes:
 *
 * - master key: SHA-256 iterated 4002 times over the first 32 UTF-8 key bytes,
 *   padded to 32 with the PDF padding string (no salt);
 * - page key: SHA-256(master ‖ LE32(pgno) ‖ "sAlT"); IV: MD5 of four outputs
 *   of a Park–Miller-style generator seeded with pgno + 1 (deterministic);
 * - page 1: bytes 16..23 stay clear; bytes 0..15 are encrypted alone, 16..end
 *   as a second CBC chain, and the encrypted 16..23 move to 8..15. Decrypted
 *   16..23 equal to the clear copy is the key check.
 *
 * Confidentiality only: a changed ciphertext decrypts to garbage unnoticed.
 */
export class WxAes256CbcCodec implements PageCodec {
  readonly reserveBytes = 0;
  readonly #master: Uint8Array;
  readonly #keyInput = new Uint8Array(NATIVE_KEY_BYTES + 8);
  readonly #iv = new Uint8Array(16);
  readonly #seed = new Uint8Array(16);
  readonly #clear = new Uint8Array(8);
  #scratch = new Uint8Array(0);

  private constructor(master: Uint8Array) {
    this.#master = master;
    this.#keyInput.set(master, 0);
    this.#keyInput.set(PAGE_SALT, NATIVE_KEY_BYTES + 4);
  }

  /**
   * Derives the master key (about 4002 SHA-256, a few milliseconds). Keys over
   * 32 UTF-8 bytes work as natively (the rest is ignored) and are reported
   * through `warn` (default `console.warn`), without the key.
   */
  static fromKey(key: string, warn: KeyWarning = console.warn): WxAes256CbcCodec {
    const bytes = nativeKeyBytes(key, warn);
    const padded = new Uint8Array(32);
    padded.set(bytes);
    padded.set(PADDING.subarray(0, 32 - bytes.length), bytes.length);
    bytes.fill(0);
    let digest = sha256(padded);
    padded.fill(0);
    for (let i = 0; i < SHA_ITERATIONS; i++) {
      const next = sha256(digest);
      digest.fill(0);
      digest = next;
    }
    return new WxAes256CbcCodec(digest);
  }

  encryptPage(pageNo: number, plain: Uint8Array, out: Uint8Array): void {
    checkPageArgs(pageNo, plain, out);
    const key = this.#pageKey(pageNo);
    if (pageNo !== 1) {
      this.#cbc(key, true, plain, out);
    } else {
      // SQLite always writes a real header; anything else would not decrypt natively.
      if (!isHeaderTail(plain)) throw codecMisuseError("page 1 has no valid database header");
      this.#clear.set(plain.subarray(16, 24));
      this.#cbc(key, true, plain.subarray(0, 16), out.subarray(0, 16));
      this.#cbc(key, true, plain.subarray(16), out.subarray(16));
      out.copyWithin(8, 16, 24);
      out.set(this.#clear, 16);
    }
    key.fill(0);
  }

  decryptPage(pageNo: number, cipher: Uint8Array, out: Uint8Array): void {
    checkPageArgs(pageNo, cipher, out);
    if (pageNo !== 1) {
      const key = this.#pageKey(pageNo);
      this.#cbc(key, false, cipher, out);
      key.fill(0);
      return;
    }
    this.#checkPage1Shape(cipher);
    const clear = this.#clear;
    clear.set(cipher.subarray(16, 24));
    // Rebuild the second chain in `out`: its first block is cipher[8..16) ‖ cipher[24..32).
    if (out !== cipher) out.set(cipher.subarray(24), 24);
    out.set(cipher.subarray(8, 16), 16);
    const key = this.#pageKey(1);
    this.#cbc(key, false, out.subarray(16), out.subarray(16));
    key.fill(0);
    for (let i = 0; i < 8; i++) {
      if (out[16 + i] !== clear[i]) throw notADatabaseError(EncryptionErrorCode.KEY_WRONG);
    }
    out.set(SQLITE_MAGIC, 0);
  }

  decryptRange(pageNo: number, cipher: Uint8Array, offset: number, out: Uint8Array): void {
    const end = offset + out.length;
    if (!Number.isInteger(offset) || offset < 0 || end > cipher.length || out.length === 0) {
      throw codecMisuseError("range outside the page");
    }
    checkPageArgs(pageNo, cipher, cipher);
    if (pageNo === 1) {
      this.#decryptPage1Range(cipher, offset, out);
      return;
    }
    // CBC: plaintext block i = D(C[i]) xor C[i-1], so blocks first..last need ciphertext first-1..last.
    const first = offset >> 4;
    const last = (end - 1) >> 4;
    const length = (last - first + 1) * 16;
    const scratch = this.#scratchOf(length);
    const key = this.#pageKey(pageNo);
    const iv = first === 0 ? this.#iv : cipher.subarray((first - 1) * 16, first * 16);
    cbc(key, iv, NO_PADDING).decrypt(cipher.subarray(first * 16, first * 16 + length), scratch);
    key.fill(0);
    out.set(scratch.subarray(offset - first * 16, offset - first * 16 + out.length));
  }

  /**
   * Checks the key against the first bytes of page 1 as stored (at least 32):
   * throws `SQLITE_NOTADB` with the reason (wrong key, plain file, other
   * format) or returns. Costs one AES block, not a page.
   */
  verifyKey(page1Head: Uint8Array): void {
    if (page1Head.length < 32) throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
    this.#decryptPage1Range(page1Head, 16, new Uint8Array(8));
  }

  #checkPage1Shape(cipher: Uint8Array): void {
    if (startsWithMagic(cipher)) throw notADatabaseError(EncryptionErrorCode.NOT_ENCRYPTED);
    if (!isHeaderTail(cipher)) throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
  }

  /** Page 1 range: [0, 16) is the magic once the key checks; [16, end) is the second chain. */
  #decryptPage1Range(cipher: Uint8Array, offset: number, out: Uint8Array): void {
    this.#checkPage1Shape(cipher);
    const end = offset + out.length;
    // Chain block k holds page bytes 16 + 16k ..; block 0 is always needed for the key check.
    const blocks = end > 16 ? ((end - 17) >> 4) + 1 : 1;
    const scratch = this.#scratchOf(blocks * 16);
    scratch.set(cipher.subarray(8, 16), 0);
    scratch.set(cipher.subarray(24, 16 + blocks * 16), 8);
    const key = this.#pageKey(1);
    cbc(key, this.#iv, NO_PADDING).decrypt(scratch, scratch);
    key.fill(0);
    for (let i = 0; i < 8; i++) {
      if (scratch[i] !== cipher[16 + i]) throw notADatabaseError(EncryptionErrorCode.KEY_WRONG);
    }
    for (let i = offset; i < end; i++) out[i - offset] = i < 16 ? SQLITE_MAGIC[i]! : scratch[i - 16]!;
  }

  /** Page key (fresh array, wiped by the caller) and the page's IV in `#iv`. */
  #pageKey(pageNo: number): Uint8Array {
    const input = this.#keyInput;
    input[32] = pageNo & 0xff;
    input[33] = (pageNo >>> 8) & 0xff;
    input[34] = (pageNo >>> 16) & 0xff;
    input[35] = (pageNo >>> 24) & 0xff;
    this.#iv.set(md5(pageSeed(pageNo, this.#seed)));
    return sha256(input);
  }

  /** One CBC pass with the IV in `#iv`; noble wants a 4-byte-aligned output, so unaligned ones go through scratch. */
  #cbc(key: Uint8Array, encrypt: boolean, input: Uint8Array, out: Uint8Array): void {
    const cipher = cbc(key, this.#iv, NO_PADDING);
    const target = out.byteOffset % 4 === 0 ? out : this.#scratchOf(input.length);
    if (encrypt) cipher.encrypt(input, target);
    else cipher.decrypt(input, target);
    if (target !== out) out.set(target);
  }

  #scratchOf(length: number): Uint8Array {
    if (this.#scratch.length < length) this.#scratch = new Uint8Array(Math.max(length, 4096));
    return this.#scratch.subarray(0, length);
  }

  /** Wipes the master key; the codec is unusable afterwards. */
  dispose(): void {
    this.#master.fill(0);
    this.#keyInput.fill(0);
  }
}

/** `sqlite3mcGenerateInitialVector`'s generator input: four LE32 outputs, seeded with pgno + 1. */
function pageSeed(pageNo: number, seed: Uint8Array): Uint8Array {
  let z = pageNo + 1;
  for (let j = 0; j < 4; j++) {
    const q = Math.floor(z / 52774);
    z = 40692 * (z - 52774 * q) - 3791 * q;
    if (z < 0) z += 2147483399;
    seed[4 * j] = z & 0xff;
    seed[4 * j + 1] = (z >>> 8) & 0xff;
    seed[4 * j + 2] = (z >>> 16) & 0xff;
    seed[4 * j + 3] = (z >>> 24) & 0xff;
  }
  return seed;
}
