import { ErrorCode, LibsqlError } from "../../src/errors.js";

/**
 * Stable codes of encryption failures. Wrong keys keep native libSQL's
 * `code: "SQLITE_NOTADB"` (so code written against `@libsql/client` still
 * matches) and say why in `extendedCode`; tampering has a code of its own
 * because native libSQL has no equivalent.
 */
export const EncryptionErrorCode = {
  /** `code`: a page failed authentication (authenticated format): modified, moved, swapped or cut short. */
  TAMPERED: "ENCRYPTION_TAMPERED",
  /** `code`: the key cannot be used at all (not a string, or empty). */
  KEY_INVALID: "ENCRYPTION_KEY_INVALID",
  /** `extendedCode` under `SQLITE_NOTADB`: the key does not open this database. */
  KEY_WRONG: "ENCRYPTION_KEY_WRONG",
  /** `extendedCode` under `SQLITE_NOTADB`: the file looks encrypted but no key was given. */
  KEY_MISSING: "ENCRYPTION_KEY_MISSING",
  /** `extendedCode` under `SQLITE_NOTADB`: a key was given but the file is a plain SQLite database. */
  NOT_ENCRYPTED: "ENCRYPTION_NOT_ENCRYPTED",
  /** `extendedCode` under `SQLITE_NOTADB`: the file is in the other encryption format, or is no database. */
  FORMAT_MISMATCH: "ENCRYPTION_FORMAT_MISMATCH",
  /** `extendedCode` under `SQLITE_NOTADB`: authenticated format with a version or KDF parameters refused here. */
  FORMAT_UNSUPPORTED: "ENCRYPTION_FORMAT_UNSUPPORTED",
} as const;

/** The `extendedCode` values that come with `code: "SQLITE_NOTADB"`. */
export type NotADatabaseReason =
  | typeof EncryptionErrorCode.KEY_WRONG
  | typeof EncryptionErrorCode.KEY_MISSING
  | typeof EncryptionErrorCode.NOT_ENCRYPTED
  | typeof EncryptionErrorCode.FORMAT_MISMATCH
  | typeof EncryptionErrorCode.FORMAT_UNSUPPORTED;

const SQLITE_NOTADB = 26;
/** SQLITE_IOERR_DATA: the extended code SQLite's own checksum VFS uses for a failed integrity check. */
const SQLITE_IOERR_DATA = 10 | (32 << 8);

// Fixed texts: no function here takes the key, so none can leak it.
const notADatabaseText: Record<NotADatabaseReason, string> = {
  ENCRYPTION_KEY_WRONG: "file is not a database (the encryption key does not match)",
  ENCRYPTION_KEY_MISSING: "file is not a database (it is encrypted and no encryption key was given)",
  ENCRYPTION_NOT_ENCRYPTED: "file is not a database (an encryption key was given but the database is not encrypted)",
  ENCRYPTION_FORMAT_MISMATCH: "file is not a database (not in the expected encryption format)",
  ENCRYPTION_FORMAT_UNSUPPORTED: "file is not a database (unsupported encryption format version or parameters)",
};

/**
 * `SQLITE_NOTADB` (raw code 26, as native libSQL reports a wrong key) with the
 * reason in `extendedCode`. A VFS returns `rawCode` from `xRead`/`xOpen`.
 */
export function notADatabaseError(reason: NotADatabaseReason): LibsqlError {
  return new LibsqlError(notADatabaseText[reason], "SQLITE_NOTADB", reason, SQLITE_NOTADB);
}

/**
 * A page that failed authentication. `rawCode` is `SQLITE_IOERR_DATA`, which a
 * VFS returns from `xRead` so SQLite stops instead of using the page.
 */
export function tamperedError(pageNo: number, cause?: unknown): LibsqlError {
  return new LibsqlError(
    `page ${pageNo} failed authentication: the database was changed outside SQLite, or is damaged`,
    EncryptionErrorCode.TAMPERED,
    "SQLITE_IOERR_DATA",
    SQLITE_IOERR_DATA,
    cause,
  );
}

/** The key argument itself is unusable; `why` is a fixed description, never the key. */
export function keyInvalidError(why: "not a string" | "empty"): LibsqlError {
  return new LibsqlError(`encryption key is ${why}`, EncryptionErrorCode.KEY_INVALID);
}

/** A codec was called in a way the VFS must never do (wrong sizes, no reserved bytes); fails closed. */
export function codecMisuseError(what: string): LibsqlError {
  return new LibsqlError(`encryption codec misuse: ${what}`, ErrorCode.INTERNAL_ERROR);
}
