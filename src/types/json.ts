import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

/**
 * Any JSON value as text, which SQLite's JSON functions read
 * (`json_extract(col, '$.a')`). What JSON cannot hold does not come back:
 * `undefined` properties vanish, `-0` becomes `0`, a `Date` comes back as its
 * ISO string; `bigint` values and cycles are refused (`TypeError`).
 *
 * @example
 * const tags = json<string[]>();
 * tags.encode(["a", "b"]); // '["a","b"]'
 */
export function json<T = unknown>(): Codec<T, string> {
  return {
    encode(value) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`json.encode cannot store ${typeof value}`);
      return text;
    },
    decode(value) {
      if (typeof value !== "string") throw typeMismatch("JSON text", value);
      try {
        return JSON.parse(value) as T;
      } catch {
        throw typeMismatch("valid JSON text", value);
      }
    },
  };
}
