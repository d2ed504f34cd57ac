import { keyInvalidError } from "./encryption-errors.js";

/** How many key bytes native libSQL (SQLite3 Multiple Ciphers `aes256cbc`) uses; it ignores the rest. */
export const NATIVE_KEY_BYTES = 32;

/** Receives warnings about keys; the text never contains key material. */
export type KeyWarning = (message: string) => void;

/**
 * The warning for keys longer than native libSQL uses. A warning, not an
 * error: databases that native libSQL made with such keys (say 64 hex digits)
 * must still open, and native accepts those keys silently.
 */
export const longKeyWarning =
  `encryption key is longer than ${NATIVE_KEY_BYTES} UTF-8 bytes; native libSQL ignores the bytes past the ` +
  `${NATIVE_KEY_BYTES}nd, so only the first ${NATIVE_KEY_BYTES} protect this database`;

/** UTF-8 bytes of `key`, as native libSQL takes them. Throws `ENCRYPTION_KEY_INVALID` for a non-string or "". */
export function keyBytes(key: unknown): Uint8Array {
  if (typeof key !== "string") throw keyInvalidError("not a string");
  if (key.length === 0) throw keyInvalidError("empty");
  return new TextEncoder().encode(key);
}

/**
 * The key bytes native libSQL actually uses: the first 32 UTF-8 bytes. Longer
 * keys are cut the same way and reported through `warn`.
 */
export function nativeKeyBytes(key: unknown, warn: KeyWarning): Uint8Array {
  const bytes = keyBytes(key);
  if (bytes.length <= NATIVE_KEY_BYTES) return bytes;
  warn(longKeyWarning);
  const kept = bytes.slice(0, NATIVE_KEY_BYTES);
  bytes.fill(0);
  return kept;
}
