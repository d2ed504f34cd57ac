import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { argon2id } from "@noble/hashes/argon2.js";
import {
  AUTHENTICATED_MAGIC,
  AUTHENTICATED_RESERVE,
  detectDatabaseFormat,
  headerPageSize,
  isHeaderTail,
  SQLITE_MAGIC,
} from "./database-header.js";
import { codecMisuseError, EncryptionErrorCode, notADatabaseError, tamperedError } from "./encryption-errors.js";
import { keyBytes } from "./encryption-key.js";
import { checkPageArgs, type PageCodec } from "./page-codec.js";

/** Argon2id cost: memory in KiB, passes, lanes. */
export interface Argon2idParams {
  m: number;
  t: number;
  p: number;
}

/** OWASP's baseline for Argon2id (19 MiB, 2 passes, 1 lane): about 0.3 s in Node. */
export const DEFAULT_ARGON2ID: Readonly<Argon2idParams> = { m: 19456, t: 2, p: 1 };

/** Bounds on KDF parameters read from a file, so a hostile file cannot ask for gigabytes or hours. */
const MAX_M = 1 << 20; // 1 GiB
const MAX_T = 64;
const MAX_P = 16;

const FORMAT_VERSION = 1;
const KDF_ARGON2ID = 1;
const SALT_BYTES = 16;
const TAG_BYTES = 16;
const NONCE_BYTES = 16;
const CHECK_BYTES = 8;
/** Page-1 clear areas: the salt in [0, 16), SQLite's bytes 16..23, and the descriptor in [72, 92). */
const DESCRIPTOR_AT = 72;
const DESCRIPTOR_END = 92;
const HEAD_GAP = DESCRIPTOR_END - DESCRIPTOR_AT;
/** Bytes of page-1 plaintext before the descriptor that are encrypted: [24, 72). */
const HEAD_SECRET = DESCRIPTOR_AT - 24;

/**
 * libsql-web's authenticated format, **beyond native libSQL** (which cannot
 * open it): XChaCha20-Poly1305 per page, with a fresh random nonce per write
 * and SQLite's reserved bytes (header byte 20 = 32) holding the tag and nonce.
 *
 * Every page: ciphertext of bytes [0, ps − 32), then the 16-byte tag, then 16
 * random nonce bytes. The 24-byte XChaCha nonce is those 16 bytes ‖ LE32(pgno)
 * ‖ 0000; the associated data is LE32(pgno), so a page moved or swapped to
 * another number fails. Page 1 also keeps clear, and authenticates, what is
 * needed before the key is known:
 *
 * - [0, 16): the Argon2id salt (random per database), where plain SQLite has
 *   its magic (restored on decryption);
 * - [16, 24): SQLite's page size, versions, reserve and payload fractions,
 *   which SQLite and the VFS need before any decryption;
 * - [72, 92): SQLite's "reserved for expansion, must be zero" area, read back
 *   as zeros: `"lwae"`, format version, KDF id, Argon2id m (BE32), t, p, and
 *   an 8-byte key check (more Argon2id output), which tells a wrong key from
 *   a damaged page.
 *
 * Page 1's encrypted part is [24, 72) ‖ [92, ps − 32). Its associated data is
 * LE32(1) ‖ disk[0, 24) ‖ disk[72, 92).
 *
 * Not covered: a whole-file rollback, or one page replaced by an older
 * version of the same page (no freshness), and journal checksums, which stay
 * clear as in native libSQL.
 */
export class AuthenticatedCodec implements PageCodec {
  readonly reserveBytes = AUTHENTICATED_RESERVE;
  readonly #key: Uint8Array;
  /** Page 1's clear disk[0, 16) and disk[72, 92), as this codec writes and expects them. */
  readonly #salt: Uint8Array;
  readonly #descriptor: Uint8Array;
  readonly #nonce = new Uint8Array(24);
  readonly #aad = new Uint8Array(4 + 24 + HEAD_GAP);
  /** LE32(pgno): the whole associated data of pages other than 1. */
  readonly #pageAad = this.#aad.subarray(0, 4);
  readonly #random = new Uint8Array(NONCE_BYTES * 64);
  #randomUsed = this.#random.length;
  #scratch = new Uint8Array(0);
  /** The page `decryptRange` served last: its number (0 = none), ciphertext and plaintext. */
  #rangePageNo = 0;
  #rangeCipher = new Uint8Array(0);
  #rangePlain = new Uint8Array(0);

  private constructor(key: Uint8Array, salt: Uint8Array, descriptor: Uint8Array) {
    this.#key = key;
    this.#salt = salt;
    this.#descriptor = descriptor;
  }

  /**
   * A codec for a new database: a random salt, and `kdf` (default
   * {@link DEFAULT_ARGON2ID}) stored in page 1. Runs Argon2id synchronously.
   */
  static create(key: string, kdf: Argon2idParams = DEFAULT_ARGON2ID): AuthenticatedCodec {
    if (!validKdf(kdf)) throw new RangeError("Argon2id parameters out of range");
    const password = keyBytes(key);
    const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    const descriptor = new Uint8Array(HEAD_GAP);
    descriptor.set(AUTHENTICATED_MAGIC, 0);
    descriptor[4] = FORMAT_VERSION;
    descriptor[5] = KDF_ARGON2ID;
    new DataView(descriptor.buffer).setUint32(6, kdf.m);
    descriptor[10] = kdf.t;
    descriptor[11] = kdf.p;
    const derived = derive(password, salt, kdf);
    descriptor.set(derived.subarray(32), 12);
    return new AuthenticatedCodec(derived.slice(0, 32), salt, descriptor);
  }

  /**
   * A codec for an existing database, from the first 100 bytes of page 1 as
   * stored. Throws `SQLITE_NOTADB` with the reason: `ENCRYPTION_KEY_WRONG`,
   * `ENCRYPTION_NOT_ENCRYPTED`, `ENCRYPTION_FORMAT_MISMATCH` or
   * `ENCRYPTION_FORMAT_UNSUPPORTED`.
   */
  static open(key: string, page1Head: Uint8Array): AuthenticatedCodec {
    const password = keyBytes(key);
    const format = detectDatabaseFormat(page1Head.subarray(0, 100));
    if (format !== "authenticated") {
      password.fill(0);
      throw notADatabaseError(
        format === "plain" ? EncryptionErrorCode.NOT_ENCRYPTED : EncryptionErrorCode.FORMAT_MISMATCH,
      );
    }
    const descriptor = page1Head.slice(DESCRIPTOR_AT, DESCRIPTOR_END);
    const view = new DataView(descriptor.buffer);
    const kdf = { m: view.getUint32(6), t: descriptor[10]!, p: descriptor[11]! };
    const tail = descriptor.subarray(12 + CHECK_BYTES);
    if (descriptor[4] !== FORMAT_VERSION || descriptor[5] !== KDF_ARGON2ID || !validKdf(kdf) || tail.some(Boolean)) {
      password.fill(0);
      throw notADatabaseError(EncryptionErrorCode.FORMAT_UNSUPPORTED);
    }
    const salt = page1Head.slice(0, SALT_BYTES);
    const derived = derive(password, salt, kdf);
    const check = derived.subarray(32);
    let same = 0;
    for (let i = 0; i < CHECK_BYTES; i++) same |= check[i]! ^ descriptor[12 + i]!;
    if (same !== 0) {
      derived.fill(0);
      throw notADatabaseError(EncryptionErrorCode.KEY_WRONG);
    }
    return new AuthenticatedCodec(derived.slice(0, 32), salt, descriptor);
  }

  encryptPage(pageNo: number, plain: Uint8Array, out: Uint8Array): void {
    const size = checkPageArgs(pageNo, plain, out);
    const body = size - AUTHENTICATED_RESERVE;
    const nonce = this.#nextNonce(pageNo);
    if (pageNo !== 1) {
      this.#seal(this.#pageAad, plain.subarray(0, body), out.subarray(0, body + TAG_BYTES));
    } else {
      if (headerPageSize(plain) !== size || !isHeaderTail(plain) || plain[20] !== AUTHENTICATED_RESERVE) {
        throw codecMisuseError("page 1 must have a valid header with 32 reserved bytes");
      }
      // Gather the secret parts, [24, 72) ‖ [92, body), and seal them in place in scratch.
      const length = body - 24 - HEAD_GAP;
      const sealed = this.#scratchOf(length + TAG_BYTES);
      sealed.set(plain.subarray(24, DESCRIPTOR_AT), 0);
      sealed.set(plain.subarray(DESCRIPTOR_END, body), HEAD_SECRET);
      this.#page1Aad(plain.subarray(16, 24));
      this.#seal(this.#aad, sealed.subarray(0, length), sealed);
      if (out !== plain) out.set(plain.subarray(16, 24), 16);
      out.set(this.#salt, 0);
      out.set(sealed.subarray(0, HEAD_SECRET), 24);
      out.set(this.#descriptor, DESCRIPTOR_AT);
      out.set(sealed.subarray(HEAD_SECRET), DESCRIPTOR_END);
    }
    out.set(nonce.subarray(0, NONCE_BYTES), size - NONCE_BYTES);
  }

  decryptPage(pageNo: number, cipher: Uint8Array, out: Uint8Array): void {
    const size = checkPageArgs(pageNo, cipher, out);
    const body = size - AUTHENTICATED_RESERVE;
    this.#nonce.set(cipher.subarray(size - NONCE_BYTES), 0);
    this.#setNonceTail(pageNo);
    if (pageNo !== 1) {
      this.#open(pageNo, this.#pageAad, cipher.subarray(0, body + TAG_BYTES), out.subarray(0, body));
      out.fill(0, body);
      return;
    }
    this.#checkPage1Clear(cipher);
    const length = body - 24 - HEAD_GAP;
    const sealed = this.#scratchOf(length + TAG_BYTES);
    sealed.set(cipher.subarray(24, DESCRIPTOR_AT), 0);
    sealed.set(cipher.subarray(DESCRIPTOR_END, body + TAG_BYTES), HEAD_SECRET);
    this.#page1Aad(cipher.subarray(16, 24));
    this.#open(1, this.#aad, sealed, sealed.subarray(0, length));
    out.set(SQLITE_MAGIC, 0);
    if (out !== cipher) out.set(cipher.subarray(16, 24), 16);
    out.set(sealed.subarray(0, HEAD_SECRET), 24);
    out.fill(0, DESCRIPTOR_AT, DESCRIPTOR_END);
    out.set(sealed.subarray(HEAD_SECRET, length), DESCRIPTOR_END);
    out.fill(0, body);
  }

  /**
   * Authentication needs the whole page, so this decrypts it all and copies
   * the range. The last page served is remembered with its ciphertext: SQLite
   * re-reads 16 bytes of page 1 at every read transaction in NORMAL locking
   * mode, and an unchanged ciphertext needs no second check.
   */
  decryptRange(pageNo: number, cipher: Uint8Array, offset: number, out: Uint8Array): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + out.length > cipher.length || out.length === 0) {
      throw codecMisuseError("range outside the page");
    }
    const cached = this.#rangeCipher;
    if (this.#rangePageNo !== pageNo || cached.length !== cipher.length || !equalBytes(cached, cipher)) {
      this.#rangePageNo = 0;
      if (cached.length !== cipher.length) {
        this.#rangeCipher = new Uint8Array(cipher.length);
        this.#rangePlain = new Uint8Array(cipher.length);
      }
      this.decryptPage(pageNo, cipher, this.#rangePlain);
      this.#rangeCipher.set(cipher);
      this.#rangePageNo = pageNo;
    }
    out.set(this.#rangePlain.subarray(offset, offset + out.length));
  }

  /** Wipes the key; the codec is unusable afterwards. */
  dispose(): void {
    this.#key.fill(0);
    this.#rangePlain.fill(0);
    this.#rangePageNo = 0;
  }

  /** Page 1's salt and descriptor must be this codec's: anything else is a changed file. */
  #checkPage1Clear(cipher: Uint8Array): void {
    let diff = 0;
    for (let i = 0; i < SALT_BYTES; i++) diff |= cipher[i]! ^ this.#salt[i]!;
    for (let i = 0; i < HEAD_GAP; i++) diff |= cipher[DESCRIPTOR_AT + i]! ^ this.#descriptor[i]!;
    if (diff !== 0 || !isHeaderTail(cipher) || cipher[20] !== AUTHENTICATED_RESERVE) throw tamperedError(1);
  }

  /** AAD of page 1: LE32(1) ‖ salt ‖ header bytes 16..23 ‖ descriptor. */
  #page1Aad(clearHeader: Uint8Array): void {
    const aad = this.#aad;
    aad.set([1, 0, 0, 0], 0);
    aad.set(this.#salt, 4);
    aad.set(clearHeader, 4 + SALT_BYTES);
    aad.set(this.#descriptor, 4 + 24);
  }

  #seal(aad: Uint8Array, message: Uint8Array, out: Uint8Array): void {
    xchacha20poly1305(this.#key, this.#nonce, aad).encrypt(message, out);
  }

  #open(pageNo: number, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array): void {
    try {
      xchacha20poly1305(this.#key, this.#nonce, aad).decrypt(sealed, out);
    } catch {
      throw tamperedError(pageNo);
    }
  }

  /** Fresh random nonce bytes in `#nonce`, the page number after them, and LE32(pgno) as AAD. */
  #nextNonce(pageNo: number): Uint8Array {
    if (this.#randomUsed === this.#random.length) {
      crypto.getRandomValues(this.#random);
      this.#randomUsed = 0;
    }
    this.#nonce.set(this.#random.subarray(this.#randomUsed, this.#randomUsed + NONCE_BYTES), 0);
    this.#random.fill(0, this.#randomUsed, this.#randomUsed + NONCE_BYTES);
    this.#randomUsed += NONCE_BYTES;
    this.#setNonceTail(pageNo);
    return this.#nonce;
  }

  #setNonceTail(pageNo: number): void {
    const nonce = this.#nonce;
    const aad = this.#aad;
    aad[0] = nonce[NONCE_BYTES] = pageNo & 0xff;
    aad[1] = nonce[NONCE_BYTES + 1] = (pageNo >>> 8) & 0xff;
    aad[2] = nonce[NONCE_BYTES + 2] = (pageNo >>> 16) & 0xff;
    aad[3] = nonce[NONCE_BYTES + 3] = (pageNo >>> 24) & 0xff;
  }

  #scratchOf(length: number): Uint8Array {
    if (this.#scratch.length < length) this.#scratch = new Uint8Array(Math.max(length, 4096));
    return this.#scratch.subarray(0, length);
  }
}

/** Argon2id → 32-byte page key ‖ 8-byte key check; wipes `password`. */
function derive(password: Uint8Array, salt: Uint8Array, kdf: Argon2idParams): Uint8Array {
  try {
    return argon2id(password, salt, { ...kdf, dkLen: 32 + CHECK_BYTES });
  } finally {
    password.fill(0);
  }
}

function validKdf(kdf: Argon2idParams): boolean {
  const { m, t, p } = kdf;
  return (
    Number.isInteger(m) &&
    Number.isInteger(t) &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P &&
    t >= 1 &&
    t <= MAX_T &&
    m >= 8 * p &&
    m <= MAX_M
  );
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
