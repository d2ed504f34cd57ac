/** `"SQLite format 3\0"`: the first 16 bytes of every plain SQLite database. */
export const SQLITE_MAGIC = new TextEncoder().encode("SQLite format 3\0");

/** Page size encoded at `header[at..at+2)` (SQLite stores 65536 as 1), or 0 if it is not a valid size. */
export function headerPageSize(header: Uint8Array, at = 16): number {
  const raw = (header[at]! << 8) | header[at + 1]!;
  const size = raw === 1 ? 65536 : raw;
  return size >= 512 && size <= 65536 && (size & (size - 1)) === 0 ? size : 0;
}

/**
 * Whether the 8 bytes at `header[at..at+8)` look like SQLite header bytes
 * 16..23: a valid page size and the fixed payload fractions 64/32/32. This is
 * the test native libSQL applies to the clear bytes of an encrypted page 1.
 */
export function isHeaderTail(header: Uint8Array, at = 16): boolean {
  return (
    headerPageSize(header, at) !== 0 && header[at + 5] === 0x40 && header[at + 6] === 0x20 && header[at + 7] === 0x20
  );
}

/** Whether `bytes` starts with the plain SQLite magic. */
export function startsWithMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 16) return false;
  for (let i = 0; i < 16; i++) if (bytes[i] !== SQLITE_MAGIC[i]) return false;
  return true;
}

/** What the first bytes of a database file say about its encryption. */
export type DatabaseFormat = "empty" | "plain" | "wx-aes256cbc" | "authenticated" | "unknown";

/** Bytes 72..75 of an authenticated-format page 1 (SQLite's "reserved for expansion" area). */
export const AUTHENTICATED_MAGIC = new TextEncoder().encode("lwae");

/** The reserve (header byte 20) of the authenticated format: 16-byte tag + 16-byte nonce. */
export const AUTHENTICATED_RESERVE = 32;

/**
 * Classifies a file from its first 100 raw bytes (fewer for a short file).
 * `wx-aes256cbc` means "clear bytes 16..23 look like a header and the rest is
 * not plain": the key check decides the rest.
 */
export function detectDatabaseFormat(head: Uint8Array): DatabaseFormat {
  if (head.every((b) => b === 0)) return "empty";
  if (head.length < 100) return "unknown";
  if (startsWithMagic(head)) return "plain";
  if (!isHeaderTail(head)) return "unknown";
  const authenticated = head[20] === AUTHENTICATED_RESERVE && AUTHENTICATED_MAGIC.every((b, i) => head[72 + i] === b);
  return authenticated ? "authenticated" : "wx-aes256cbc";
}
