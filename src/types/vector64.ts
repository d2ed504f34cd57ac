import type { Codec } from "./codec.js";
import { blobBytes, typeMismatch } from "./type-mismatch.js";
import { checkVector, type VectorInput } from "./vector32.js";

// libSQL marks every vector type but float32 with a trailing type byte; 2 is FLOAT64.
const FLOAT64_TYPE = 2;

/**
 * Vectors in libSQL's `F64_BLOB` layout: little-endian float64 elements and a
 * trailing type byte (2), as `vector64('[…]')` produces. Exact for any finite
 * double; use it with `F64_BLOB(n)` columns.
 *
 * @example
 * vector64.encode([1, 2]); // 17 bytes
 */
export const vector64: Codec<Float64Array, Uint8Array> & { encode(value: VectorInput): Uint8Array } = {
  encode(value: VectorInput) {
    checkVector(value, "vector64", (x) => x);
    const bytes = new Uint8Array(value.length * 8 + 1);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < value.length; i++) view.setFloat64(i * 8, value[i] as number, true);
    bytes[bytes.length - 1] = FLOAT64_TYPE;
    return bytes;
  },
  decode(value) {
    const bytes = blobBytes(value);
    if (!bytes || bytes.byteLength < 9 || bytes.byteLength % 8 !== 1 || bytes[bytes.byteLength - 1] !== FLOAT64_TYPE) {
      throw typeMismatch("an F64_BLOB vector (8 bytes per element and a type byte)", value);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float64Array((bytes.byteLength - 1) / 8);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  },
};
