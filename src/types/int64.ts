import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

/**
 * 64-bit integers as `bigint`, stored as SQLite INTEGERs (−2^63 … 2^63−1).
 * Read such columns with `intMode: "bigint"` or `"string"`: in the default
 * `"number"` mode the client throws a `RangeError` for a value beyond 2^53
 * before a codec sees it (or select `CAST(col AS TEXT)`). Decoding accepts
 * all three modes' values.
 *
 * @example
 * int64.encode(2n ** 60n); // 1152921504606846976n
 * int64.decode("9007199254740993"); // 9007199254740993n
 */
export const int64: Codec<bigint, bigint> & { encode(value: bigint | number): bigint } = {
  encode(value: bigint | number) {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new RangeError("int64.encode expects a bigint or a safe integer");
    }
    if (typeof value !== "bigint" && typeof value !== "number") throw new TypeError("int64.encode expects a bigint");
    const big = BigInt(value);
    if (big < MIN || big > MAX) throw new RangeError("int64.encode: the value does not fit in 64 bits; use bigintText");
    return big;
  },
  decode(value) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === "string" && /^-?\d+$/.test(value)) {
      const big = BigInt(value);
      if (big >= MIN && big <= MAX) return big;
    }
    throw typeMismatch("a 64-bit integer", value);
  },
};
