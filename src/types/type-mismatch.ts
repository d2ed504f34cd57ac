import { LibsqlError } from "../errors.js";

/** The error code of a stored value that a codec cannot decode. */
export const TYPE_MISMATCH = "TYPE_MISMATCH";

/** A `TYPE_MISMATCH` error saying what was expected and what was found (never the value itself: it may be private). */
export function typeMismatch(expected: string, value: unknown, hint?: string): LibsqlError {
  const found =
    value === null
      ? "NULL"
      : value instanceof ArrayBuffer || value instanceof Uint8Array
        ? `a ${value.byteLength}-byte blob`
        : typeof value === "string"
          ? `text of ${value.length} characters`
          : `a ${typeof value}`;
  return new LibsqlError(`expected ${expected}, found ${found}${hint ? ` (${hint})` : ""}`, TYPE_MISMATCH);
}

/** The bytes of a blob value, or undefined if it is not a blob. */
export function blobBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return undefined;
}
