import type { Codec } from "./codec.js";
import { typeMismatch } from "./type-mismatch.js";

// SQLite's own date functions write "YYYY-MM-DD HH:MM:SS" without a zone, meaning UTC.
const ZONELESS = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const ISO = /^([+-]\d{6}|\d{4})-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Dates as ISO-8601 text in UTC with milliseconds (`2024-05-06T07:08:09.010Z`):
 * readable, sorts chronologically for years 0–9999, and SQLite's date
 * functions understand it (`datetime(col)`). Decoding also accepts SQLite's
 * zone-less `YYYY-MM-DD HH:MM:SS` (read as UTC, as SQLite means it) and
 * offsets such as `+02:00`.
 *
 * @example
 * isoDate.encode(new Date(0)); // "1970-01-01T00:00:00.000Z"
 */
export const isoDate: Codec<Date, string> = {
  encode(value) {
    if (!(value instanceof Date)) throw new TypeError("isoDate.encode expects a Date");
    // toISOString throws a RangeError for an invalid date, which is what we want.
    return value.toISOString();
  },
  decode(value) {
    if (typeof value !== "string" || !ISO.test(value)) throw typeMismatch("ISO-8601 date text", value);
    const date = new Date(ZONELESS.test(value) ? `${value.replace(" ", "T")}Z` : value);
    if (Number.isNaN(date.valueOf())) throw typeMismatch("a valid ISO-8601 date", value);
    return date;
  },
};
