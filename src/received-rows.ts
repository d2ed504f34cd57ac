import type { FlatRows, ReceivedRows, ResultValue } from "./proto.js";

/** The number of rows. */
export function receivedCount(rows: ReceivedRows): number {
  return Array.isArray(rows) ? rows.length : rows.count;
}

/** The values of row `r`, or undefined past the end. */
export function receivedRow(rows: ReceivedRows, r: number): ResultValue[] | undefined {
  if (Array.isArray(rows)) return rows[r];
  if (r < 0 || r >= rows.count) return undefined;
  return rows.values.slice(r * rows.width, (r + 1) * rows.width);
}

/** The first `n` rows. */
export function firstRows(rows: ReceivedRows, n: number): ReceivedRows {
  if (Array.isArray(rows)) return rows.slice(0, n);
  const count = Math.min(rows.count, Math.max(0, n));
  return { width: rows.width, count, values: rows.values.slice(0, count * rows.width) };
}

/** Every row as an array of its values. */
export function receivedArrays(rows: ReceivedRows): ResultValue[][] {
  if (Array.isArray(rows)) return rows;
  const out = new Array<ResultValue[]>(rows.count);
  for (let r = 0; r < rows.count; r++) out[r] = rows.values.slice(r * rows.width, (r + 1) * rows.width);
  return out;
}

/** `into` followed by `rows` (rows of the same statement), reusing `into`'s array; `into` may be empty. */
export function appendRows(into: FlatRows, rows: ReceivedRows): FlatRows {
  if (into.count === 0) return Array.isArray(rows) ? flatten(rows, into.width) : rows;
  const values = into.values;
  if (Array.isArray(rows)) {
    for (const row of rows) for (const value of row) values.push(value);
  } else {
    for (const value of rows.values) values.push(value);
  }
  return { width: into.width, count: into.count + receivedCount(rows), values };
}

function flatten(rows: ResultValue[][], width: number): FlatRows {
  return { width: rows[0]?.length ?? width, count: rows.length, values: rows.flat() };
}
