/**
 * Many values (statement arguments, result cells) laid out for `postMessage`:
 * a type tag per value, numbers and 64-bit integers in typed arrays that are
 * moved rather than copied, text and everything else beside them.
 * Structured clone copies an array of 100k small row arrays in ~50-130 ms
 * here (a tag and a length per row, a tag per value), and 100k result
 * objects in ~300 ms; the typed arrays of the same values move in ~2 ms.
 *
 * Text comes two ways. Batch arguments travel as strings: cloning 100k short
 * ones costs ~13 ms, no more than encoding them. Text read out of SQLite
 * travels as its UTF-8 bytes, copied straight from the wasm heap into one
 * buffer that is moved: the worker never builds a string (~0.3 µs each for
 * short ones), and the page decodes the whole buffer in one call (~1 ms for
 * 100k) and cuts it up. `runMany`'s text goes as UTF-8 too (`pushText`):
 * the page encodes a part while the worker runs the one before, and the
 * worker binds the bytes from one copy in its heap, building no string.
 */
export interface ValueBlock {
  /** One tag per value: `NULL`, `NUMBER`, `INTEGER`, `SAFE_INTEGER`, `STRING`, `UTF8` or `OTHER`. */
  tags: Uint8Array;
  /** The value of each `NUMBER` and `SAFE_INTEGER`, at its own index. */
  numbers: Float64Array;
  /** The value of each `INTEGER` (a bigint beyond 2^53, within 64 bits), at its own index; null when there is none. */
  integers: BigInt64Array | null;
  /** The `STRING` values, in order. */
  strings: string[];
  /** The UTF-8 bytes of the `UTF8` values, back to back; null when there is none. */
  text: Uint8Array | null;
  /** Where each `UTF8` value ends in `text`, in order (each starts where the one before ended). */
  textEnds: Uint32Array | null;
  /** Every other value (blobs, bigints beyond 64 bits, anything structured clone must judge), in order. */
  others: unknown[];
}

const NULL = 0;
const NUMBER = 1;
const INTEGER = 2;
const STRING = 3;
const OTHER = 4;
/** Text as UTF-8 bytes in `text`. */
const UTF8 = 5;
/** A bigint whose value is a safe integer, kept in `numbers` (no BigInt is made until it is read). */
const SAFE_INTEGER = 6;

const INT64_MIN = -(2n ** 63n);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MAX = 2n ** 63n - 1n;
/** Up to this many bytes, text is copied out of the heap by hand rather than with `set()`. */
const SHORT_COPY = 32;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Fills a block one value at a time; it grows as needed. */
export class ValueBlockWriter {
  #tags: Uint8Array;
  #numbers: Float64Array;
  #integers: BigInt64Array | null = null;
  readonly #strings: string[] = [];
  #text: Uint8Array | null = null;
  #textEnds: Uint32Array | null = null;
  #textLength = 0;
  #texts = 0;
  readonly #others: unknown[] = [];
  #length = 0;

  /** `capacity`: the number of values expected (a guess is fine). */
  constructor(capacity: number) {
    const size = Math.max(capacity, 16);
    this.#tags = new Uint8Array(size);
    this.#numbers = new Float64Array(size);
  }

  /** Values written so far. */
  get length(): number {
    return this.#length;
  }

  /** Index of the next value, growing the arrays first when they are full (so read `#tags` after calling it). */
  #slot(): number {
    const i = this.#length++;
    if (i === this.#tags.length) {
      const size = i * 2;
      const tags = new Uint8Array(size);
      tags.set(this.#tags);
      this.#tags = tags;
      const numbers = new Float64Array(size);
      numbers.set(this.#numbers);
      this.#numbers = numbers;
      if (this.#integers) {
        const integers = new BigInt64Array(size);
        integers.set(this.#integers);
        this.#integers = integers;
      }
    }
    return i;
  }

  /**
   * Adds any value; a string goes as a string, a bigint within 2^53 as a
   * number (read back as a bigint, and bound without making one when it
   * fits 32 bits: `nextInt32`).
   */
  push(value: unknown): void {
    if (value === null) this.pushNull();
    else if (typeof value === "number") this.pushNumber(value);
    else if (typeof value === "string") this.pushString(value);
    else if (typeof value === "bigint") this.#pushBigint(value);
    else this.pushOther(value);
  }

  #pushBigint(value: bigint): void {
    if (value >= MIN_SAFE && value <= MAX_SAFE) this.pushSafeInteger(Number(value));
    else if (value >= INT64_MIN && value <= INT64_MAX) this.pushInteger(value);
    else this.pushOther(value);
  }

  /** Adds a string, to travel as a string. */
  pushString(value: string): void {
    const i = this.#slot();
    this.#tags[i] = STRING;
    this.#strings.push(value);
  }

  /** Adds NULL. */
  pushNull(): void {
    const i = this.#slot();
    this.#tags[i] = NULL;
  }

  /** Adds a number. */
  pushNumber(value: number): void {
    const i = this.#slot();
    this.#tags[i] = NUMBER;
    this.#numbers[i] = value;
  }

  /** Adds a bigint within 64 bits. */
  pushInteger(value: bigint): void {
    const i = this.#slot();
    this.#tags[i] = INTEGER;
    this.#integers ??= new BigInt64Array(this.#tags.length);
    this.#integers[i] = value;
  }

  /** Adds a safe integer that the reader gives back as a bigint. */
  pushSafeInteger(value: number): void {
    const i = this.#slot();
    this.#tags[i] = SAFE_INTEGER;
    this.#numbers[i] = value;
  }

  /** Adds text given as `n` bytes of UTF-8 at `p` in `source` (the wasm heap), copying them. */
  pushUtf8(source: Uint8Array, p: number, n: number): void {
    const i = this.#slot();
    this.#tags[i] = UTF8;
    const text = this.#textRoom(n);
    let at = this.#textLength;
    if (n <= SHORT_COPY) {
      for (let k = 0; k < n; k++) text[at++] = source[p + k] as number;
    } else {
      text.set(source.subarray(p, p + n), at);
      at += n;
    }
    this.#endText(at);
  }

  /**
   * Adds a string as its UTF-8 bytes (the engine's worker binds those
   * straight from one copy in its heap, with no string to rebuild and
   * encode there); ASCII by hand, the rest with `TextEncoder`.
   */
  pushText(value: string): void {
    const i = this.#slot();
    this.#tags[i] = UTF8;
    const length = value.length;
    const text = this.#textRoom(length * 3);
    let at = this.#textLength;
    let k = 0;
    for (; k < length; k++) {
      const code = value.charCodeAt(k);
      if (code >= 0x80) break;
      text[at++] = code;
    }
    if (k < length) at += encoder.encodeInto(value.slice(k), text.subarray(at)).written;
    this.#endText(at);
  }

  /** The text buffer, grown to take `n` more bytes. */
  #textRoom(n: number): Uint8Array {
    let text = this.#text;
    const at = this.#textLength;
    if (text === null || at + n > text.length) {
      // First sized for a few bytes a value of the capacity asked for; then doubled.
      const grown = new Uint8Array(Math.max(1024, text === null ? this.#tags.length * 8 : 0, (at + n) * 2));
      if (text) grown.set(text.subarray(0, at));
      this.#text = text = grown;
    }
    return text;
  }

  /** Ends the text value written up to `at`. */
  #endText(at: number): void {
    this.#textLength = at;
    let ends = this.#textEnds;
    if (ends === null || this.#texts === ends.length) {
      const grown = new Uint32Array(Math.max(256, ends === null ? this.#tags.length : 0, this.#texts * 2));
      if (ends) grown.set(ends);
      this.#textEnds = ends = grown;
    }
    ends[this.#texts++] = at;
  }

  /** Adds a value for structured clone to carry (a blob, a bigint beyond 64 bits…). */
  pushOther(value: unknown): void {
    const i = this.#slot();
    this.#tags[i] = OTHER;
    this.#others.push(value);
  }

  /** The block: views of exactly the values written. */
  finish(): ValueBlock {
    const n = this.#length;
    return {
      tags: this.#tags.subarray(0, n),
      numbers: this.#numbers.subarray(0, n),
      integers: this.#integers ? this.#integers.subarray(0, n) : null,
      strings: this.#strings,
      text: this.#text ? this.#text.subarray(0, this.#textLength) : null,
      textEnds: this.#textEnds ? this.#textEnds.subarray(0, this.#texts) : null,
      others: this.#others,
    };
  }
}

/**
 * Adds what `postMessage` should move rather than copy to `transfer`: the
 * block's typed arrays and, with `moveBuffers`, its `ArrayBuffer` values
 * (blobs the engine copied out of its heap; arguments are the caller's and
 * are copied).
 */
export function transferBlock(block: ValueBlock, transfer: Transferable[], moveBuffers: boolean): void {
  transfer.push(block.tags.buffer, block.numbers.buffer);
  if (block.integers) transfer.push(block.integers.buffer);
  if (block.text) transfer.push(block.text.buffer);
  if (block.textEnds) transfer.push(block.textEnds.buffer);
  if (moveBuffers) for (const value of block.others) if (value instanceof ArrayBuffer) transfer.push(value);
}

/** Reads a block's values back in order. */
export class ValueBlockReader {
  readonly #block: ValueBlock;
  /** All of `text` decoded (once the first text value is read), when each byte became one character (ASCII). */
  #decoded: string | null | undefined;
  #index = 0;
  #string = 0;
  #text = 0;
  #other = 0;

  constructor(block: ValueBlock) {
    this.#block = block;
  }

  /** `text` decoded whole, when values can be cut out of it. */
  #wholeText(): string | null {
    if (this.#decoded === undefined) {
      const text = this.#block.text;
      const decoded = text ? decoder.decode(text) : null;
      // One character per byte means every byte decoded alone, so a slice of the
      // whole equals the decoding of that slice; otherwise each value is decoded.
      this.#decoded = decoded !== null && decoded.length === (text as Uint8Array).length ? decoded : null;
    }
    return this.#decoded;
  }

  /**
   * When the next value is UTF-8 text: skips it and returns where its bytes
   * start in the block's `text` (`textEnd` says where they end); otherwise
   * -1, skipping nothing.
   */
  nextText(): number {
    if (this.#block.tags[this.#index] !== UTF8) return -1;
    this.#index++;
    return this.#textSpan();
  }

  /** Takes the next text value's bytes: returns where they start, and sets `textEnd`. */
  #textSpan(): number {
    const k = this.#text++;
    const ends = this.#block.textEnds as Uint32Array;
    this.textEnd = ends[k] as number;
    return k === 0 ? 0 : (ends[k - 1] as number);
  }

  /** Where the bytes of the text `nextText()` skipped end. */
  textEnd = 0;

  /**
   * When the next value is an integer (given as a bigint) within 32 bits:
   * skips it and returns it as a number (binding it makes no BigInt);
   * otherwise NaN, skipping nothing.
   */
  nextInt32(): number {
    const i = this.#index;
    const block = this.#block;
    if (block.tags[i] !== SAFE_INTEGER) return Number.NaN;
    const value = block.numbers[i] as number;
    if ((value | 0) !== value) return Number.NaN;
    this.#index++;
    return value;
  }

  next(): unknown {
    const i = this.#index++;
    const block = this.#block;
    switch (block.tags[i]) {
      case NULL:
        return null;
      case NUMBER:
        return block.numbers[i];
      case UTF8: {
        const start = this.#textSpan();
        const end = this.textEnd;
        const whole = this.#wholeText();
        if (whole !== null) return whole.substring(start, end);
        return decoder.decode((block.text as Uint8Array).subarray(start, end));
      }
      case STRING:
        return block.strings[this.#string++];
      case INTEGER:
        return (block.integers as BigInt64Array)[i];
      case SAFE_INTEGER:
        return BigInt(block.numbers[i] as number);
      default:
        return block.others[this.#other++];
    }
  }
}
