import type { IntMode, ResultValue } from "../src/proto.js";
import { BLOCK_MIN_VALUES, type RowsWire } from "../src/worker/hot-wire.js";
import { ValueBlockWriter } from "../src/worker/value-block.js";
import { packRow, readRow } from "./sqlite/read-row.js";
import type { Sqlite } from "./sqlite/sqlite.js";

/** Collects the rows of one statement as they are stepped through. */
export interface RowCollector<Rows> {
  /** Rows collected so far. */
  readonly count: number;
  /** Reads the current row of `stmt`. */
  add(sqlite: Sqlite, stmt: number, intMode: IntMode): void;
  /** The rows collected. */
  finish(): Rows;
}

/**
 * How the engine holds the rows it reads: arrays of values (in-process use),
 * or packed into a value block for a trip across `postMessage`, text left as
 * UTF-8 (a browser worker; see `ValueBlock`).
 */
export interface RowFormat<Rows> {
  /** A collector for the rows of a statement of `width` columns. */
  collect(width: number): RowCollector<Rows>;
}

/** Rows as arrays of values. */
export const arrayRows: RowFormat<ResultValue[][]> = {
  collect(width) {
    const rows: ResultValue[][] = [];
    return {
      get count() {
        return rows.length;
      },
      add(sqlite, stmt, intMode) {
        rows.push(readRow(sqlite, stmt, width, intMode));
      },
      finish: () => rows,
    };
  },
};

/**
 * Rows packed into a value block, or plain arrays while they are few (a
 * block's typed arrays cost more than they save below `BLOCK_MIN_VALUES`).
 */
export const packedRows: RowFormat<RowsWire> = {
  collect(width) {
    let rows: ResultValue[][] = [];
    let writer: ValueBlockWriter | null = null;
    let count = 0;
    return {
      get count() {
        return count;
      },
      add(sqlite, stmt, intMode) {
        if (writer === null) {
          if ((count + 1) * width < BLOCK_MIN_VALUES) {
            rows.push(readRow(sqlite, stmt, width, intMode));
            count++;
            return;
          }
          writer = new ValueBlockWriter(width * 256);
          for (const row of rows) for (const value of row) writer.push(value);
          rows = [];
        }
        packRow(sqlite, stmt, width, intMode, writer);
        count++;
      },
      finish: () => (writer === null ? rows : { width, count, block: writer.finish() }),
    };
  },
};
