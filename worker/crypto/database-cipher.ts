import type { EncryptionFormat, EncryptionSpec } from "../../src/proto.js";
import { checkDatabaseBytes } from "../storage/database-bytes.js";
import { AuthenticatedCodec } from "./authenticated-codec.js";
import {
  AUTHENTICATED_RESERVE,
  detectDatabaseFormat,
  headerPageSize,
  isHeaderTail,
  startsWithMagic,
} from "./database-header.js";
import { EncryptionErrorCode, notADatabaseError } from "./encryption-errors.js";
import { type KeyWarning, keyBytes } from "./encryption-key.js";
import type { PageCodec } from "./page-codec.js";
import { WxAes256CbcCodec } from "./wx-aes256cbc-codec.js";

/** The page size of new encrypted databases, and of raw page writes to a file that has none yet. */
export const DEFAULT_PAGE_SIZE = 4096;

type DisposableCodec = PageCodec & { dispose(): void };

/**
 * The encryption of one database: its key and format, and the page codecs of
 * its files. The encrypting VFS asks it for a codec per file (`codecFor`,
 * from the file's first bytes); the engine uses it to export and import
 * encrypted bytes. `dispose()` wipes every key it derived.
 *
 * The `libsql` format derives one key for every file (native libSQL's KDF has
 * no salt); the `authenticated` format derives a key per file from the salt in
 * its page 1 (Argon2id, about 0.3 s), or a new salt for a new file.
 */
export class DatabaseCipher {
  /** The file format. */
  readonly format: EncryptionFormat;
  readonly #key: string;
  readonly #shared: WxAes256CbcCodec | null;
  readonly #codecs = new Set<DisposableCodec>();
  #primary: PageCodec | null = null;

  private constructor(key: string, format: EncryptionFormat, shared: WxAes256CbcCodec | null) {
    this.#key = key;
    this.format = format;
    this.#shared = shared;
  }

  /**
   * Checks `spec` and derives what can be derived up front. Throws
   * `ENCRYPTION_KEY_INVALID` for an empty or non-string key and a `RangeError`
   * for an unknown format; a key longer than native libSQL uses (`libsql`
   * format) is reported through `warn`, without the key.
   */
  static create(spec: EncryptionSpec, warn: KeyWarning = console.warn): DatabaseCipher {
    const format = spec.format ?? "libsql";
    if (format !== "libsql" && format !== "authenticated") {
      throw new RangeError(`unknown encryption format ${JSON.stringify(format)}: expected "libsql" or "authenticated"`);
    }
    keyBytes(spec.key).fill(0);
    const shared = format === "libsql" ? WxAes256CbcCodec.fromKey(spec.key, warn) : null;
    return new DatabaseCipher(spec.key, format, shared);
  }

  /** Bytes SQLite must reserve at the end of every page (`SQLITE_FCNTL_RESERVE_BYTES`) for a new database. */
  get reserveBytes(): number {
    return this.format === "authenticated" ? AUTHENTICATED_RESERVE : 0;
  }

  /** True when `spec` names this key and format. */
  matches(spec: EncryptionSpec | undefined): boolean {
    return spec !== undefined && spec.key === this.#key && (spec.format ?? "libsql") === this.format;
  }

  /**
   * The codec of a file whose stored first bytes (at least 100) are `head`, or
   * of a new file (`head` null). Throws `SQLITE_NOTADB` with the reason when
   * the key does not open the file, the file is plain, or in the other format.
   */
  codecFor(head: Uint8Array | null): PageCodec {
    let codec: PageCodec;
    if (this.#shared) {
      if (head !== null) {
        this.#requireFormat(head, "wx-aes256cbc");
        this.#shared.verifyKey(head);
      }
      codec = this.#shared;
    } else {
      const made = head === null ? AuthenticatedCodec.create(this.#key) : this.#openAuthenticated(head);
      this.#codecs.add(made);
      codec = made;
    }
    this.#primary ??= codec;
    return codec;
  }

  #openAuthenticated(head: Uint8Array): AuthenticatedCodec {
    this.#requireFormat(head, "authenticated");
    return AuthenticatedCodec.open(this.#key, head.subarray(0, 100));
  }

  #requireFormat(head: Uint8Array, expected: "wx-aes256cbc" | "authenticated"): void {
    const found = detectDatabaseFormat(head.subarray(0, 100));
    if (found === expected) return;
    throw notADatabaseError(
      found === "plain" ? EncryptionErrorCode.NOT_ENCRYPTED : EncryptionErrorCode.FORMAT_MISMATCH,
    );
  }

  /** The codec of the first file resolved (the database's own file), or a new file's. */
  primaryCodec(): PageCodec {
    return this.#primary ?? this.codecFor(null);
  }

  /** `plain` (a whole SQLite file) encrypted page by page with `codec` (default: the database's own). */
  encryptFile(plain: Uint8Array, codec: PageCodec = this.primaryCodec()): Uint8Array {
    if (plain.length === 0) return plain;
    const pageSize = headerPageSize(plain);
    const out = new Uint8Array(plain.length);
    for (let at = 0; at < plain.length; at += pageSize) {
      codec.encryptPage(at / pageSize + 1, plain.subarray(at, at + pageSize), out.subarray(at, at + pageSize));
    }
    return out;
  }

  /**
   * The file to store for imported `bytes`: an encrypted file of this key and format is checked
   * and kept (page 1 re-encrypted if it says WAL, which no encrypted database
   * here uses); a plain file is encrypted. Throws `SQLITE_NOTADB` with the
   * reason otherwise.
   */
  importFile(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return bytes;
    if (startsWithMagic(bytes)) {
      checkDatabaseBytes(bytes);
      if (this.format === "authenticated" && bytes[20] !== AUTHENTICATED_RESERVE) {
        throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
      }
      const plain = bytes.slice();
      toRollbackMode(plain);
      return this.encryptFile(plain, this.codecFor(null));
    }
    const codec = this.codecFor(bytes.subarray(0, 100));
    const pageSize = headerPageSize(bytes);
    if (bytes.length % pageSize !== 0) throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
    if (bytes[18] !== 2 && bytes[19] !== 2) return bytes;
    const file = bytes.slice();
    const page = file.subarray(0, pageSize);
    codec.decryptPage(1, page, page);
    toRollbackMode(page);
    codec.encryptPage(1, page, page);
    return file;
  }

  /** Wipes every key derived for this database; the cipher is unusable afterwards. */
  dispose(): void {
    this.#shared?.dispose();
    for (const codec of this.#codecs) codec.dispose();
    this.#codecs.clear();
    this.#primary = null;
  }
}

/** Throws `SQLITE_NOTADB` (`ENCRYPTION_KEY_MISSING`) when a file opened without a key is encrypted. */
export function refuseEncryptedWithoutKey(head: Uint8Array): void {
  const format = head.length >= 100 && isHeaderTail(head) ? detectDatabaseFormat(head.subarray(0, 100)) : "unknown";
  if (format === "wx-aes256cbc" || format === "authenticated") {
    throw notADatabaseError(EncryptionErrorCode.KEY_MISSING);
  }
}

/** Sets header bytes 18/19 (file format versions) from WAL (2) to rollback journal (1). */
function toRollbackMode(page1: Uint8Array): void {
  if (page1[18] === 2) page1[18] = 1;
  if (page1[19] === 2) page1[19] = 1;
}
