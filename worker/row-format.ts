import type { IntMode, ReceivedRows, ResultValue } from "../src/proto.js";
import { BLOCK_MIN_VALUES, type RowsWire } from "../src/worker/hot-wire.js";
import { ValueBlockWriter } from "../src/worker/value-block.js";
import { packRow, readRow, readRowInto } from "./sqlite/read-row.js";
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
 * How the engine holds the rows it reads: arrays of values, one flat array
 * (in-process clients), or packed into a value block for a trip across
 * `postMessage`, text left as UTF-8 (a browser worker; see `ValueBlock`).
 */
export interface RowFormat<Rows> {
  /** A collector for the rows of a statement of `width` columns. */
  collect(width: number): RowCollector<Rows>;
}

/** Rows as arrays of values. */
export const arrayRows: RowFormat<ResultValue[][]> = {
  collect: (width) => new ArrayRows(width),
};

class ArrayRows implements RowCollector<ResultValue[][]> {
  readonly #width: number;
  readonly #rows: ResultValue[][] = [];

  constructor(width: number) {
    this.#width = width;
  }

  get count(): number {
    return this.#rows.length;
  }

  add(sqlite: Sqlite, stmt: number, intMode: IntMode): void {
    this.#rows.push(readRow(sqlite, stmt, this.#width, intMode));
  }

  finish(): ResultValue[][] {
    return this.#rows;
  }
}

/**
 * Rows laid end to end in one array (`FlatRows`), or an array per row while
 * they are few: what an in-process client reads fastest (no array per row).
 */
export const flatRows: RowFormat<ReceivedRows> = {
  collect: (width) => new FlatRowsCollector(width),
};

class FlatRowsCollector implements RowCollector<ReceivedRows> {
  readonly #width: number;
  #rows: ResultValue[][] | null = [];
  readonly #values: ResultValue[] = [];
  #count = 0;

  constructor(width: number) {
    this.#width = width;
  }

  get count(): number {
    return this.#count;
  }

  add(sqlite: Sqlite, stmt: number, intMode: IntMode): void {
    const width = this.#width;
    const rows = this.#rows;
    if (rows !== null) {
      if ((this.#count + 1) * width < BLOCK_MIN_VALUES) {
        rows.push(readRow(sqlite, stmt, width, intMode));
        this.#count++;
        return;
      }
      for (const row of rows) for (const value of row) this.#values.push(value);
      this.#rows = null;
    }
    readRowInto(sqlite, stmt, width, intMode, this.#values, this.#count * width);
    this.#count++;
  }

  finish(): ReceivedRows {
    return this.#rows ?? { width: this.#width, count: this.#count, values: this.#values };
  }
}

/**
 * Rows packed into a value block, or plain arrays while they are few (a
 * block's typed arrays cost more than they save below `BLOCK_MIN_VALUES`).
 */
export const packedRows: RowFormat<RowsWire> = {
  collect: (width) => new PackedRowsCollector(width),
};

class PackedRowsCollector implements RowCollector<RowsWire> {
  readonly #width: number;
  #rows: ResultValue[][] = [];
  #writer: ValueBlockWriter | null = null;
  #count = 0;

  constructor(width: number) {
    this.#width = width;
  }

  get count(): number {
    return this.#count;
  }

  add(sqlite: Sqlite, stmt: number, intMode: IntMode): void {
    const width = this.#width;
    let writer = this.#writer;
    if (writer === null) {
      if ((this.#count + 1) * width < BLOCK_MIN_VALUES) {
        this.#rows.push(readRow(sqlite, stmt, width, intMode));
        this.#count++;
        return;
      }
      writer = new ValueBlockWriter(width * 256);
      for (const row of this.#rows) for (const value of row) writer.push(value);
      this.#rows = [];
      this.#writer = writer;
    }
    packRow(sqlite, stmt, width, intMode, writer);
    this.#count++;
  }

  finish(): RowsWire {
    const writer = this.#writer;
    return writer === null ? this.#rows : { width: this.#width, count: this.#count, block: writer.finish() };
  }
}
