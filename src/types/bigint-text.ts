import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

/**
 * Integers of any size (u64, u128, …) as decimal text, for values beyond
 * SQLite's 64-bit INTEGER. Use a `TEXT` column (numeric affinity would turn
 * large ones into floats); text sorts as text, not numerically.
 *
 * @example
 * bigintText.encode(2n ** 64n); // "18446744073709551616"
 */
export const bigintText: Codec<bigint, string> = {
  encode(value) {
    if (typeof value !== "bigint") throw new TypeError("bigintText.encode expects a bigint");
    return value.toString();
  },
  decode(value) {
    if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
    throw typeMismatch("integer text", value);
  },
};
