import { LibsqlError } from "../../src/errors.js";

const HEADER = "SQLite format 3\0";

/**
 * Returns `bytes` if they look like a whole SQLite database file (the header
 * string, a valid page size, a length that is a whole number of pages), or
 * are empty (an empty database, as `exportDatabase` gives for one); otherwise
 * throws `SQLITE_NOTADB`, before anything is overwritten.
 */
export function checkDatabaseBytes(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("the database must be given as a Uint8Array");
  }
  const fail = (why: string): never => {
    throw new LibsqlError(`the bytes are not an SQLite database: ${why}`, "SQLITE_NOTADB", "SQLITE_NOTADB", 26);
  };
  if (bytes.length === 0) return bytes;
  if (bytes.length < 512) fail(`${bytes.length} bytes is too short`);
  for (let i = 0; i < HEADER.length; i++) {
    if (bytes[i] !== HEADER.charCodeAt(i)) fail("the header string is missing");
  }
  const field = ((bytes[16] as number) << 8) | (bytes[17] as number);
  const pageSize = field === 1 ? 65536 : field;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) fail(`invalid page size ${field}`);
  if (bytes.length % pageSize !== 0) fail(`${bytes.length} bytes is not a whole number of ${pageSize}-byte pages`);
  return bytes;
}
