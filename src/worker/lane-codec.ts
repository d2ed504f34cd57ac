/**
 * Writes and reads the plain data of hot calls (arrays, plain objects,
 * strings, numbers, bigints, booleans, null, undefined, `ArrayBuffer`s and
 * typed arrays) in a region of shared memory, for the shared lane
 * (`shared-lane.ts`). What structured clone would do for these values, done
 * by hand: a tag byte per value, strings as their UTF-16 code units (lone
 * surrogates survive), buffers copied. Anything else, or anything that does
 * not fit, makes `write` return -1 and the call takes `postMessage` instead.
 */

import { setOwn } from "../own-property.js";

const UNDEFINED = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const INT32 = 4;
const FLOAT64 = 5;
const INT64 = 6;
/** A bigint beyond 64 bits, as its decimal digits. */
const BIG = 7;
const STRING = 8;
const ARRAY = 9;
const OBJECT = 10;
const BUFFER = 11;
const TYPED = 12;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Code units passed to one `String.fromCharCode` call (its arguments live on the stack). */
const CHARS_PER_CALL = 4096;

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** Typed array kinds by their code on the lane. */
const TYPED_KINDS: TypedArrayConstructor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

/** Thrown inside `write` when a value cannot go on the lane; never leaves it. */
class NotForLane extends Error {}
const NOT_FOR_LANE = new NotForLane();

/** Plain data to and from one region of a `SharedArrayBuffer`. */
export class LaneCodec {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #units: Uint16Array;
  readonly #capacity: number;
  #at = 0;

  /** The region `[offset, offset + length)` of `buffer`; `offset` and `length` even. */
  constructor(buffer: SharedArrayBuffer, offset: number, length: number) {
    this.#view = new DataView(buffer, offset, length);
    this.#bytes = new Uint8Array(buffer, offset, length);
    this.#units = new Uint16Array(buffer, offset, length >> 1);
    this.#capacity = length;
  }

  /** Writes `value` at the start of the region; returns its length in bytes, or -1 when it cannot go there. */
  write(value: unknown): number {
    this.#at = 0;
    try {
      this.#value(value, 0);
    } catch (error) {
      if (error === NOT_FOR_LANE) return -1;
      throw error;
    }
    return this.#at;
  }

  /** Reads the value that `write` left at the start of the region. */
  read(): unknown {
    this.#at = 0;
    return this.#read();
  }

  #room(bytes: number): number {
    const at = this.#at;
    if (at + bytes > this.#capacity) throw NOT_FOR_LANE;
    this.#at = at + bytes;
    return at;
  }

  #tag(tag: number): void {
    this.#bytes[this.#room(1)] = tag;
  }

  #u32(value: number): void {
    this.#view.setUint32(this.#room(4), value, true);
  }

  #value(value: unknown, depth: number): void {
    switch (typeof value) {
      case "undefined":
        this.#tag(UNDEFINED);
        return;
      case "boolean":
        this.#tag(value ? TRUE : FALSE);
        return;
      case "number":
        if ((value | 0) === value && !Object.is(value, -0)) {
          this.#tag(INT32);
          this.#view.setInt32(this.#room(4), value, true);
        } else {
          this.#tag(FLOAT64);
          this.#view.setFloat64(this.#room(8), value, true);
        }
        return;
      case "bigint":
        if (value >= INT64_MIN && value <= INT64_MAX) {
          this.#tag(INT64);
          this.#view.setBigInt64(this.#room(8), value, true);
        } else {
          this.#tag(BIG);
          this.#string(value.toString());
        }
        return;
      case "string":
        this.#tag(STRING);
        this.#string(value);
        return;
      case "object":
        if (value === null) {
          this.#tag(NULL);
          return;
        }
        if (depth > 64) throw NOT_FOR_LANE;
        this.#object(value, depth + 1);
        return;
      default:
        throw NOT_FOR_LANE;
    }
  }

  #string(value: string): void {
    const length = value.length;
    this.#u32(length);
    if (this.#at & 1) this.#room(1);
    const start = this.#room(length * 2) >> 1;
    const units = this.#units;
    for (let i = 0; i < length; i++) units[start + i] = value.charCodeAt(i);
  }

  #object(value: object, depth: number): void {
    if (Array.isArray(value)) {
      this.#tag(ARRAY);
      this.#u32(value.length);
      for (let i = 0; i < value.length; i++) this.#value(value[i], depth);
      return;
    }
    if (value instanceof ArrayBuffer) {
      this.#tag(BUFFER);
      this.#buffer(new Uint8Array(value));
      return;
    }
    if (ArrayBuffer.isView(value)) {
      const kind = TYPED_KINDS.indexOf(value.constructor as TypedArrayConstructor);
      if (kind < 0 || !(value.buffer instanceof ArrayBuffer)) throw NOT_FOR_LANE;
      this.#tag(TYPED);
      this.#tag(kind);
      this.#buffer(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return;
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) throw NOT_FOR_LANE;
    const keys = Object.keys(value);
    this.#tag(OBJECT);
    this.#u32(keys.length);
    for (const key of keys) {
      this.#string(key);
      this.#value((value as Record<string, unknown>)[key], depth);
    }
  }

  #buffer(bytes: Uint8Array): void {
    this.#u32(bytes.length);
    this.#bytes.set(bytes, this.#room(bytes.length));
  }

  #read(): unknown {
    const tag = this.#bytes[this.#at++];
    switch (tag) {
      case UNDEFINED:
        return undefined;
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case INT32:
        return this.#view.getInt32(this.#skip(4), true);
      case FLOAT64:
        return this.#view.getFloat64(this.#skip(8), true);
      case INT64:
        return this.#view.getBigInt64(this.#skip(8), true);
      case BIG:
        return BigInt(this.#readString());
      case STRING:
        return this.#readString();
      case ARRAY: {
        const length = this.#readU32();
        const array = new Array(length);
        for (let i = 0; i < length; i++) array[i] = this.#read();
        return array;
      }
      case OBJECT: {
        const count = this.#readU32();
        const object: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.#readString();
          setOwn(object, key, this.#read());
        }
        return object;
      }
      case BUFFER:
        return this.#readBytes().buffer;
      case TYPED: {
        const Kind = TYPED_KINDS[this.#bytes[this.#at++] as number] as TypedArrayConstructor;
        const { buffer } = this.#readBytes();
        return new Kind(buffer);
      }
      default:
        throw new TypeError(`unknown tag ${tag} on the shared lane`);
    }
  }

  #skip(bytes: number): number {
    const at = this.#at;
    this.#at = at + bytes;
    return at;
  }

  #readU32(): number {
    return this.#view.getUint32(this.#skip(4), true);
  }

  #readString(): string {
    const length = this.#readU32();
    if (this.#at & 1) this.#at++;
    const start = this.#skip(length * 2) >> 1;
    const units = this.#units;
    if (length <= CHARS_PER_CALL) {
      return String.fromCharCode.apply(null, units.subarray(start, start + length) as unknown as number[]);
    }
    let text = "";
    for (let i = 0; i < length; i += CHARS_PER_CALL) {
      const end = Math.min(length, i + CHARS_PER_CALL);
      text += String.fromCharCode.apply(null, units.subarray(start + i, start + end) as unknown as number[]);
    }
    return text;
  }

  /** A copy of the next buffer's bytes, in memory of its own (not shared). */
  #readBytes(): Uint8Array<ArrayBuffer> {
    const length = this.#readU32();
    const at = this.#skip(length);
    return this.#bytes.slice(at, at + length);
  }
}
