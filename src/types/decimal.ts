import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Exact decimals (money, quantities) as text, kept digit for digit
 * (`"12.30"` stays `"12.30"`). Store them in a `TEXT` column: a column
 * declared `DECIMAL`, `NUMERIC` or `REAL` has numeric affinity and SQLite
 * turns the text into a float (`12.3`, and 17 significant digits at most).
 * Arithmetic and ordering in SQL would go through floats too; do them in
 * JavaScript with a decimal library. A `number` is refused: it was rounded
 * before it got here.
 *
 * @example
 * decimal.encode("12.30"); // "12.30"
 * decimal.encode(1230n); // "1230"
 */
export const decimal: Codec<string, string> & { encode(value: string | bigint): string } = {
  encode(value: string | bigint) {
    if (typeof value === "bigint") return value.toString();
    if (typeof value !== "string") {
      throw new TypeError('decimal.encode expects a string such as "12.30" (or a bigint), not a rounded number');
    }
    if (!DECIMAL.test(value)) throw new RangeError("decimal.encode expects digits with an optional sign and fraction");
    return value;
  },
  decode(value) {
    if (typeof value === "string" && DECIMAL.test(value)) return value;
    throw typeMismatch(
      "decimal text",
      value,
      typeof value === "number" ? "the column has numeric affinity and rounded it: declare it TEXT" : undefined,
    );
  },
};
