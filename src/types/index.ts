/**
 * `libsql-web/types`: codecs for what SQLite has no type for. Each is an
 * `{ encode, decode }` pair; see the README's type table for the storage each
 * one uses and why.
 *
 * @example
 * import { bool, isoDate, json } from "libsql-web/types";
 * await client.execute({ sql: "INSERT INTO t VALUES (?, ?, ?)", args: [bool.encode(true), isoDate.encode(new Date()), json().encode({ a: 1 })] });
 */
export { bigintText } from "./bigint-text.js";
export { bool } from "./bool.js";
export { type Codec, nullable } from "./codec.js";
export { decimal } from "./decimal.js";
export { epochMs, epochSeconds } from "./epoch-date.js";
export { int64 } from "./int64.js";
export { isoDate } from "./iso-date.js";
export { json } from "./json.js";
export { TYPE_MISMATCH } from "./type-mismatch.js";
export { uuid, uuidBlob } from "./uuid.js";
export { type VectorInput, vector32 } from "./vector32.js";
export { vector64 } from "./vector64.js";
