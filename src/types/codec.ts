import type { InValue, Value } from "../api.js";

/**
 * A mapping between a JavaScript type and what SQLite stores for it:
 * `encode` gives the statement argument, `decode` turns a row value back.
 *
 * @example
 * await client.execute({ sql: "INSERT INTO t(done) VALUES (?)", args: [bool.encode(true)] });
 * const done = bool.decode(row.done);
 */
export interface Codec<T, Stored extends InValue = InValue> {
  /** The argument to bind; throws `TypeError`/`RangeError` for a value it cannot store. */
  encode(value: T): Stored;
  /**
   * The JavaScript value of a stored one (a row value; blobs also as a
   * `Uint8Array`, e.g. the `Buffer` an ORM hands back); throws a
   * `TYPE_MISMATCH` `LibsqlError` for anything else.
   */
  decode(value: Value | Uint8Array): T;
}

/**
 * The same codec with SQL `NULL` passed through as `null` both ways.
 *
 * @example
 * const maybeDate = nullable(isoDate);
 * maybeDate.decode(null); // null
 */
export function nullable<T, Stored extends InValue>(codec: Codec<T, Stored>): Codec<T | null, Stored | null> {
  return {
    encode: (value) => (value === null ? null : codec.encode(value)),
    decode: (value) => (value === null ? null : codec.decode(value)),
  };
}
