import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

function epochNumber(value: unknown, unit: string): number {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  throw typeMismatch(`an integer of ${unit} since 1970-01-01 UTC`, value);
}

function validTime(value: Date, name: string): number {
  if (!(value instanceof Date)) throw new TypeError(`${name}.encode expects a Date`);
  const ms = value.valueOf();
  if (Number.isNaN(ms)) throw new RangeError(`${name}.encode got an invalid Date`);
  return ms;
}

/**
 * Dates as integer milliseconds since 1970-01-01 UTC: exact, compact, and what
 * the client itself binds for a `Date` argument (there as a REAL; here as an
 * INTEGER). In SQL: `datetime(col / 1000, 'unixepoch', 'subsec')`.
 *
 * @example
 * epochMs.encode(new Date(1)); // 1n
 */
export const epochMs: Codec<Date, bigint> = {
  encode: (value) => BigInt(validTime(value, "epochMs")),
  decode: (value) => new Date(epochNumber(value, "milliseconds")),
};

/**
 * Dates as integer seconds since 1970-01-01 UTC (Unix time), as
 * `unixepoch()` returns it. Encoding drops the milliseconds (rounds towards
 * the past), so a date comes back whole-second.
 *
 * @example
 * epochSeconds.encode(new Date(1999)); // 1n
 */
export const epochSeconds: Codec<Date, bigint> = {
  encode: (value) => BigInt(Math.floor(validTime(value, "epochSeconds") / 1000)),
  decode: (value) => new Date(epochNumber(value, "seconds") * 1000),
};
