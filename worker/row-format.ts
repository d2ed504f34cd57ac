import type { FlatRows, IntMode, ReceivedRows, ResultValue } from "../src/proto.js";
import { BLOCK_MIN_VALUES, type PackedRows, type RowsWire } from "../src/worker/hot-wire.js";
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
  /** A collector for the rows of a statement of `width` columns; `rows`: how many are expected, when known. */
  collect(width: number, rows?: number): RowCollector<Rows>;
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
 * Collects rows as an array per row while they are few (below
 * `BLOCK_MIN_VALUES` values: a bulk form costs more than it saves there),
 * then in a bulk form of the subclass's.
 */
abstract class FewThenBulk<Bulk> implements RowCollector<ResultValue[][] | Bulk> {
  protected readonly width: number;
  #few: ResultValue[][] | null = [];
  #count = 0;

  constructor(width: number) {
    this.width = width;
  }

  get count(): number {
    return this.#count;
  }

  add(sqlite: Sqlite, stmt: number, intMode: IntMode): void {
    const few = this.#few;
    if (few !== null) {
      if ((this.#count + 1) * this.width < BLOCK_MIN_VALUES) {
        few.push(readRow(sqlite, stmt, this.width, intMode));
        this.#count++;
        return;
      }
      this.begin(few);
      this.#few = null;
    }
    this.addBulk(sqlite, stmt, intMode, this.#count);
    this.#count++;
  }

  finish(): ResultValue[][] | Bulk {
    return this.#few ?? this.finishBulk(this.#count);
  }

  /** Takes over the rows collected so far, as the bulk form starts. */
  protected abstract begin(few: ResultValue[][]): void;
  /** Reads the current row of `stmt` as row number `index`. */
  protected abstract addBulk(sqlite: Sqlite, stmt: number, intMode: IntMode, index: number): void;
  protected abstract finishBulk(count: number): Bulk;
}

/**
 * Rows laid end to end in one array (`FlatRows`), or an array per row while
 * they are few: what an in-process client reads fastest (no array per row).
 */
export const flatRows: RowFormat<ReceivedRows> = {
  collect: (width) => new FlatRowsCollector(width),
};

class FlatRowsCollector extends FewThenBulk<FlatRows> {
  readonly #values: ResultValue[] = [];

  protected override begin(few: ResultValue[][]): void {
    for (const row of few) for (const value of row) this.#values.push(value);
  }

  protected override addBulk(sqlite: Sqlite, stmt: number, intMode: IntMode, index: number): void {
    readRowInto(sqlite, stmt, this.width, intMode, this.#values, index * this.width);
  }

  protected override finishBulk(count: number): FlatRows {
    return { width: this.width, count, values: this.#values };
  }
}

/** Rows packed into a value block, or plain arrays while they are few. */
export const packedRows: RowFormat<RowsWire> = {
  collect: (width, rows) => new PackedRowsCollector(width, rows),
};

class PackedRowsCollector extends FewThenBulk<PackedRows> {
  readonly #expected: number;
  #writer: ValueBlockWriter | null = null;

  constructor(width: number, expected = 256) {
    super(width);
    this.#expected = expected;
  }

  protected override begin(few: ResultValue[][]): void {
    // Sized for the rows expected: each time a block grows, the arrays it leaves are garbage the worker must collect.
    const writer = new ValueBlockWriter(this.width * Math.max(256, this.#expected));
    for (const row of few) for (const value of row) writer.push(value);
    this.#writer = writer;
  }

  protected override addBulk(sqlite: Sqlite, stmt: number, intMode: IntMode): void {
    packRow(sqlite, stmt, this.width, intMode, this.#writer as ValueBlockWriter);
  }

  protected override finishBulk(count: number): PackedRows {
    return { width: this.width, count, block: (this.#writer as ValueBlockWriter).finish() };
  }
}
