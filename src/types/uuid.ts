import type { Codec } from "./codec.js";
import { blobBytes, typeMismatch } from "./type-mismatch.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function canonical(value: string, name: string): string {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new TypeError(`${name}.encode expects a UUID such as "0189f7e4-5f6a-7c3b-8d2e-1a2b3c4d5e6f"`);
  }
  return value.toLowerCase();
}

/**
 * UUIDs as their 36-character lowercase text (readable, what most tools
 * expect). `crypto.randomUUID()` makes version 4 ones.
 *
 * @example
 * uuid.encode("0189F7E4-5F6A-7C3B-8D2E-1A2B3C4D5E6F"); // "0189f7e4-5f6a-7c3b-8d2e-1a2b3c4d5e6f"
 */
export const uuid: Codec<string, string> = {
  encode: (value) => canonical(value, "uuid"),
  decode(value) {
    if (typeof value === "string" && UUID.test(value)) return value.toLowerCase();
    throw typeMismatch("UUID text", value);
  },
};

/**
 * UUIDs as 16-byte blobs: less than half the space of text, and they sort
 * byte-wise (time order for version 7). Decodes to lowercase text.
 *
 * @example
 * uuidBlob.encode("00000000-0000-0000-0000-000000000001"); // Uint8Array(16) [0, …, 1]
 */
export const uuidBlob: Codec<string, Uint8Array> = {
  encode(value) {
    const hex = canonical(value, "uuidBlob").replaceAll("-", "");
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return bytes;
  },
  decode(value) {
    const bytes = blobBytes(value);
    if (bytes?.byteLength !== 16) throw typeMismatch("a 16-byte UUID blob", value);
    const hex = Array.from(bytes, (b: number) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  },
};
