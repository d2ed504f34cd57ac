/**
 * Many values (statement arguments, result cells) laid out for `postMessage`:
 * a type tag per value, numbers and 64-bit integers in typed arrays that are
 * moved rather than copied, strings and everything else in dense arrays.
 * Structured clone copies an array of 100k small row arrays in ~50-130 ms
 * here (a tag and a length per row, a tag per value), and 100k result
 * objects in ~300 ms; the typed arrays of the same values move in ~2 ms, and
 * only the strings are still copied one by one.
 */
export interface ValueBlock {
  /** One tag per value: `NULL`, `NUMBER`, `INTEGER`, `STRING` or `OTHER`. */
  tags: Uint8Array;
  /** The value of each `NUMBER`, at its own index. */
  numbers: Float64Array;
  /** The value of each `INTEGER` (a bigint within 64 bits), at its own index; null when there is none. */
  integers: BigInt64Array | null;
  /** The `STRING` values, in order. */
  strings: string[];
  /** Every other value (blobs, bigints beyond 64 bits, anything structured clone must judge), in order. */
  others: unknown[];
}

const NULL = 0;
const NUMBER = 1;
const INTEGER = 2;
const STRING = 3;
const OTHER = 4;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Fills a block with `capacity` values, one `push` at a time. */
export class ValueBlockWriter {
  readonly #tags: Uint8Array;
  readonly #numbers: Float64Array;
  #integers: BigInt64Array | null = null;
  readonly #strings: string[] = [];
  readonly #others: unknown[] = [];
  #length = 0;

  constructor(capacity: number) {
    this.#tags = new Uint8Array(capacity);
    this.#numbers = new Float64Array(capacity);
  }

  push(value: unknown): void {
    const i = this.#length++;
    if (value === null) {
      this.#tags[i] = NULL;
    } else if (typeof value === "number") {
      this.#tags[i] = NUMBER;
      this.#numbers[i] = value;
    } else if (typeof value === "string") {
      this.#tags[i] = STRING;
      this.#strings.push(value);
    } else if (typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX) {
      this.#tags[i] = INTEGER;
      this.#integers ??= new BigInt64Array(this.#tags.length);
      this.#integers[i] = value;
    } else {
      this.#tags[i] = OTHER;
      this.#others.push(value);
    }
  }

  /**
   * The block, its typed arrays added to `transfer`. With `moveBuffers`,
   * `ArrayBuffer` values (blobs the engine copied out of its heap) are moved
   * too; arguments are the caller's and are copied.
   */
  finish(transfer: Transferable[], moveBuffers: boolean): ValueBlock {
    transfer.push(this.#tags.buffer, this.#numbers.buffer);
    if (this.#integers) transfer.push(this.#integers.buffer);
    if (moveBuffers) for (const value of this.#others) if (value instanceof ArrayBuffer) transfer.push(value);
    return {
      tags: this.#tags,
      numbers: this.#numbers,
      integers: this.#integers,
      strings: this.#strings,
      others: this.#others,
    };
  }
}

/** Reads a block's values back in order. */
export class ValueBlockReader {
  readonly #block: ValueBlock;
  #index = 0;
  #string = 0;
  #other = 0;

  constructor(block: ValueBlock) {
    this.#block = block;
  }

  next(): unknown {
    const i = this.#index++;
    const block = this.#block;
    switch (block.tags[i]) {
      case NULL:
        return null;
      case NUMBER:
        return block.numbers[i];
      case STRING:
        return block.strings[this.#string++];
      case INTEGER:
        return (block.integers as BigInt64Array)[i];
      default:
        return block.others[this.#other++];
    }
  }
}
