import type { ResultSet, Row, Value } from "./api.js";
import { toBase64 } from "./base64.js";
import type { IntMode, ReceivedRows, StmtResult } from "./proto.js";
import { type RowClass, rowClass } from "./row.js";

/** The RangeError `@libsql/client` throws for integers beyond 2^53 in `number` mode. */
export function unsafeIntegerError(): RangeError {
  return new RangeError("Received integer which cannot be safely represented as a JavaScript number");
}

/** A `ResultSet` as `@libsql/client` shapes it, including `toJSON()`. */
export class ResultSetImpl implements ResultSet {
  columns: string[];
  columnTypes: string[];
  rows: Row[];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;

  constructor(
    columns: string[],
    columnTypes: string[],
    rows: Row[],
    rowsAffected: number,
    lastInsertRowid: bigint | undefined,
  ) {
    this.columns = columns;
    this.columnTypes = columnTypes;
    this.rows = rows;
    this.rowsAffected = rowsAffected;
    this.lastInsertRowid = lastInsertRowid;
  }

  /** Rows as arrays, bigints as decimal strings, blobs as base64, as `@libsql/client` does. */
  toJSON(): {
    columns: string[];
    columnTypes: string[];
    rows: unknown[][];
    rowsAffected: number;
    lastInsertRowid: string | null;
  } {
    return {
      columns: this.columns,
      columnTypes: this.columnTypes,
      rows: this.rows.map((row) => Array.prototype.map.call(row, valueToJson) as unknown[]),
      rowsAffected: this.rowsAffected,
      lastInsertRowid: this.lastInsertRowid !== undefined ? `${this.lastInsertRowid}` : null,
    };
  }
}

function valueToJson(value: Value): unknown {
  if (typeof value === "bigint") return `${value}`;
  if (value instanceof ArrayBuffer) return toBase64(new Uint8Array(value));
  return value;
}

/** Row objects of received rows, built one at a time when asked for (a cursor builds each as it is read). */
export interface LazyRows {
  /** The number of rows. */
  readonly count: number;
  /** Builds row `r` (0 ≤ r < count). */
  row(r: number): Row;
}

/** Received rows ready to be built one by one; in `number` mode a bigint cell (beyond 2^53) is a RangeError here. */
export function lazyRows(columns: readonly string[], rows: ReceivedRows, intMode: IntMode): LazyRows {
  if (Array.isArray(rows)) {
    if (intMode === "number") for (const values of rows) checkSafe(values);
    const Row = rows.length === 0 ? undefined : rowClass(columns);
    return { count: rows.length, row: (r) => new (Row as RowClass)(rows[r] as Value[], 0) };
  }
  const { width, count, values } = rows as { width: number; count: number; values: Value[] };
  if (intMode === "number") checkSafe(values);
  const Row = count === 0 ? undefined : rowClass(columns);
  return { count, row: (r) => new (Row as RowClass)(values, r * width) };
}

/** Builds row objects from received rows; in `number` mode a bigint cell (beyond 2^53) is a RangeError. */
export function buildRows(columns: readonly string[], rows: ReceivedRows, intMode: IntMode): Row[] {
  const lazy = lazyRows(columns, rows, intMode);
  const out = new Array<Row>(lazy.count);
  for (let r = 0; r < lazy.count; r++) out[r] = lazy.row(r);
  return out;
}

function checkSafe(values: readonly Value[]): void {
  for (let i = 0; i < values.length; i++) if (typeof values[i] === "bigint") throw unsafeIntegerError();
}

/**
 * Builds a statement's rows as they arrive: batches handed over ahead of the
 * result (`add`, a `RowsAhead`), then the result's own. A RangeError for an
 * unsafe integer waits for the result, so that the call settles once.
 */
export class RowsBuilder {
  readonly #intMode: IntMode;
  readonly #rows: Row[] = [];
  #error: unknown;

  constructor(intMode: IntMode) {
    this.#intMode = intMode;
  }

  /** Builds a batch of rows handed over ahead of the result (bound: pass it as a callback). */
  readonly add = (rows: ReceivedRows, columns: string[]): void => {
    if (this.#error !== undefined) return;
    try {
      const built = buildRows(columns, rows, this.#intMode);
      for (let i = 0; i < built.length; i++) this.#rows.push(built[i] as Row);
    } catch (error) {
      this.#error = error;
    }
  };

  /** The result set: the rows built so far, then `result`'s. */
  finish(result: StmtResult<ReceivedRows>): ResultSet {
    if (this.#rows.length === 0 && this.#error === undefined) return buildResultSet(result, this.#intMode);
    this.add(result.rows, result.columns);
    if (this.#error !== undefined) throw this.#error;
    return new ResultSetImpl(
      result.columns,
      result.columnTypes,
      this.#rows,
      result.rowsAffected,
      result.lastInsertRowid,
    );
  }
}

/** The client-facing result of a statement. */
export function buildResultSet(result: StmtResult<ReceivedRows>, intMode: IntMode): ResultSet {
  return new ResultSetImpl(
    result.columns,
    result.columnTypes,
    buildRows(result.columns, result.rows, intMode),
    result.rowsAffected,
    result.lastInsertRowid,
  );
}
