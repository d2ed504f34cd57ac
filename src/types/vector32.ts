import type { Codec } from "./codec.js";
import { blobBytes, typeMismatch } from "./type-mismatch.js";

/** What a vector codec accepts: plain numbers or a typed array. */
export type VectorInput = ArrayLike<number>;

/** Checks that every element is a finite number that survives `convert` (e.g. `Math.fround`) finite. */
export function checkVector(value: VectorInput, name: string, convert: (x: number) => number): void {
  if (value === null || typeof value !== "object" || typeof value.length !== "number") {
    throw new TypeError(`${name}.encode expects an array of numbers or a typed array`);
  }
  if (value.length === 0) throw new RangeError(`${name}.encode: a vector needs at least one element`);
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    if (typeof x !== "number" || !Number.isFinite(convert(x))) {
      throw new RangeError(`${name}.encode: element ${i} is not a finite number in range`);
    }
  }
}

/**
 * Vectors in libSQL's `F32_BLOB` layout: each element a little-endian IEEE
 * float32, nothing else. Byte for byte what `vector32('[…]')` and `vector(…)`
 * produce, so the blob can be bound wherever SQL takes a vector
 * (`vector_distance_cos(col, ?)`, `vector_top_k('idx', ?, k)`). Elements
 * come back as float32 (`Math.fround(x)`); NaN, ±Infinity and values beyond
 * float32's range (~3.4e38) are refused.
 *
 * @example
 * await client.execute({ sql: "INSERT INTO docs(embedding) VALUES (?)", args: [vector32.encode([0.1, 0.2, 0.3])] });
 * const v = vector32.decode(row.embedding); // Float32Array(3)
 */
export const vector32: Codec<Float32Array, Uint8Array> & { encode(value: VectorInput): Uint8Array } = {
  encode(value: VectorInput) {
    checkVector(value, "vector32", Math.fround);
    const bytes = new Uint8Array(value.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < value.length; i++) view.setFloat32(i * 4, value[i] as number, true);
    return bytes;
  },
  decode(value) {
    const bytes = blobBytes(value);
    if (!bytes || bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) {
      throw typeMismatch("an F32_BLOB vector (4 bytes per element)", value);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  },
};
