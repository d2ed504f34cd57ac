import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

/**
 * Booleans as the integers 1 and 0 (SQLite has no boolean type; `TRUE` and
 * `FALSE` are 1 and 0). Decoding accepts only 0 and 1, in any `intMode`.
 *
 * @example
 * bool.encode(true); // 1n
 * bool.decode(0); // false
 */
export const bool: Codec<boolean, bigint> = {
  encode(value) {
    if (typeof value !== "boolean") throw new TypeError(`bool.encode expects a boolean, got ${typeof value}`);
    return value ? 1n : 0n;
  },
  decode(value) {
    if (value === 1 || value === 1n || value === "1") return true;
    if (value === 0 || value === 0n || value === "0") return false;
    throw typeMismatch("the integer 0 or 1", value);
  },
};
