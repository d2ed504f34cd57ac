import { ProtocolError } from "./hrana-errors.js";

/**
 * The JSON codec of Hrana over HTTP (§1.5–§1.11 of docs/protocols.md): request bodies are
 * decoded and checked as strictly as sqld's serde structs do (a wrong shape is a 400),
 * results are encoded as sqld writes them (integers as strings, blobs as base64 without
 * padding).
 */

/** A value bound to a statement, as the native package takes it. */
export type ArgValue = null | bigint | number | string | Buffer;

/** A value read from a row, as the native package returns it with safe integers on. */
export type RowValue = null | bigint | number | string | Buffer;

/** A decoded `Stmt`. */
export interface HranaStmt {
  sql: string | undefined;
  sqlId: number | undefined;
  args: ArgValue[];
  namedArgs: [string, ArgValue][];
  wantRows: boolean;
}

/** A decoded `BatchCond`. */
export type HranaCond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: HranaCond }
  | { type: "and"; conds: HranaCond[] }
  | { type: "or"; conds: HranaCond[] }
  | { type: "is_autocommit" };

/** A decoded `Batch`. */
export interface HranaBatch {
  steps: { condition: HranaCond | undefined; stmt: HranaStmt }[];
}

/** A decoded `StreamRequest`. */
export type StreamRequest =
  | { type: "close" }
  | { type: "execute"; stmt: HranaStmt }
  | { type: "batch"; batch: HranaBatch }
  | { type: "sequence"; sql: string | undefined; sqlId: number | undefined }
  | { type: "describe"; sql: string | undefined; sqlId: number | undefined }
  | { type: "store_sql"; sqlId: number; sql: string }
  | { type: "close_sql"; sqlId: number }
  | { type: "get_autocommit" };

/** A decoded pipeline request body. */
export interface PipelineBody {
  baton: string | null;
  requests: StreamRequest[];
}

/** A decoded cursor request body. */
export interface CursorBody {
  baton: string | null;
  batch: HranaBatch;
}

type Json = Record<string, unknown>;

function fail(detail: string): never {
  throw new ProtocolError(`Cannot deserialize client message from JSON: ${detail}`);
}

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${what}: expected an object`);
  return value as Json;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail(`${what}: expected an array`);
  return value;
}

function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value);
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string") fail(`${what}: expected a string`);
  return value;
}

function int32(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    fail(`${what}: expected a 32-bit integer`);
  }
  return value;
}

function uint32(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
    fail(`${what}: expected an unsigned 32-bit integer`);
  }
  return value;
}

function boolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") fail(`${what}: expected a boolean`);
  return value;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a `Value`. */
export function decodeValue(value: unknown): ArgValue {
  const v = object(value, "value");
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const text = string(v.value, "integer value");
      if (!/^[+-]?\d+$/.test(text)) fail(`invalid value: string "${text}", expected decimal integer as a string`);
      const n = BigInt(text);
      if (n < I64_MIN || n > I64_MAX) fail(`invalid value: string "${text}", expected decimal integer as a string`);
      return n;
    }
    case "float":
      if (typeof v.value !== "number") fail("float value: expected a number");
      return v.value;
    case "text":
      return string(v.value, "text value");
    case "blob": {
      const text = string(v.base64, "blob base64");
      // sqld accepts base64 with or without padding; Buffer.from would silently skip junk.
      if (!BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) fail("blob base64: invalid base64");
      return Buffer.from(text, "base64");
    }
    default:
      fail(`unknown variant of Value: ${JSON.stringify(v.type)}`);
  }
}

/** Decodes a `Stmt`. */
export function decodeStmt(value: unknown): HranaStmt {
  const s = object(value, "stmt");
  return {
    sql: optional(s.sql, (v) => string(v, "stmt.sql")),
    sqlId: optional(s.sql_id, (v) => int32(v, "stmt.sql_id")),
    args: (optional(s.args, (v) => array(v, "stmt.args")) ?? []).map(decodeValue),
    namedArgs: (optional(s.named_args, (v) => array(v, "stmt.named_args")) ?? []).map((arg) => {
      const a = object(arg, "named arg");
      return [string(a.name, "named arg name"), decodeValue(a.value)];
    }),
    wantRows: optional(s.want_rows, (v) => boolean(v, "stmt.want_rows")) ?? true,
  };
}

/** Decodes a `BatchCond`. */
export function decodeCond(value: unknown): HranaCond {
  const c = object(value, "condition");
  switch (c.type) {
    case "ok":
    case "error":
      return { type: c.type, step: uint32(c.step, "condition step") };
    case "not":
      return { type: "not", cond: decodeCond(c.cond) };
    case "and":
    case "or":
      return { type: c.type, conds: array(c.conds, "condition conds").map(decodeCond) };
    case "is_autocommit":
      return { type: "is_autocommit" };
    default:
      fail(`unknown variant of BatchCond: ${JSON.stringify(c.type)}`);
  }
}

/** Decodes a `Batch`. */
export function decodeBatch(value: unknown): HranaBatch {
  const b = object(value, "batch");
  return {
    steps: array(b.steps, "batch.steps").map((step) => {
      const s = object(step, "batch step");
      return { condition: optional(s.condition, decodeCond), stmt: decodeStmt(s.stmt) };
    }),
  };
}

function decodeSqlRef(r: Json): { sql: string | undefined; sqlId: number | undefined } {
  return {
    sql: optional(r.sql, (v) => string(v, "sql")),
    sqlId: optional(r.sql_id, (v) => int32(v, "sql_id")),
  };
}

/** Decodes a `StreamRequest`. */
export function decodeStreamRequest(value: unknown): StreamRequest {
  const r = object(value, "request");
  switch (r.type) {
    case "close":
    case "get_autocommit":
      return { type: r.type };
    case "execute":
      return { type: "execute", stmt: decodeStmt(r.stmt) };
    case "batch":
      return { type: "batch", batch: decodeBatch(r.batch) };
    case "sequence":
    case "describe":
      return { type: r.type, ...decodeSqlRef(r) };
    case "store_sql":
      return { type: "store_sql", sqlId: int32(r.sql_id, "sql_id"), sql: string(r.sql, "sql") };
    case "close_sql":
      return { type: "close_sql", sqlId: int32(r.sql_id, "sql_id") };
    default:
      fail(`unknown variant of StreamRequest: ${JSON.stringify(r.type)}`);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (e) {
    fail((e as Error).message);
  }
}

function decodeBaton(value: unknown): string | null {
  return optional(value, (v) => string(v, "baton")) ?? null;
}

/** Decodes the body of `POST /v2|v3/pipeline`. */
export function decodePipelineBody(body: Buffer): PipelineBody {
  const b = object(parseJson(body), "pipeline body");
  return { baton: decodeBaton(b.baton), requests: array(b.requests, "requests").map(decodeStreamRequest) };
}

/** Decodes the body of `POST /v3/cursor`. */
export function decodeCursorBody(body: Buffer): CursorBody {
  const b = object(parseJson(body), "cursor body");
  return { baton: decodeBaton(b.baton), batch: decodeBatch(b.batch) };
}

/** The JSON form of a value read from a row. */
export type ValueJson =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

/** Encodes a row value; a non-finite float becomes JSON `null`, as serde_json writes it. */
export function encodeValue(value: RowValue): ValueJson {
  if (value === null) return { type: "null" };
  if (typeof value === "bigint") return { type: "integer", value: value.toString() };
  if (typeof value === "number") return { type: "float", value };
  if (typeof value === "string") return { type: "text", value };
  return { type: "blob", base64: value.toString("base64").replace(/=+$/, "") };
}

/** A result column. */
export interface ColJson {
  name: string | null;
  decltype: string | null;
}

/** The outcome of one statement, before encoding. */
export interface ExecResult {
  cols: ColJson[];
  rows: RowValue[][];
  affectedRowCount: number;
  lastInsertRowid: bigint | null;
  durationMs: number;
}

/** Encodes a `StmtResult` as sqld does (no `rows_read`/`rows_written`: the native package cannot measure them). */
export function encodeStmtResult(r: ExecResult): Json {
  return {
    cols: r.cols,
    rows: r.rows.map((row) => row.map(encodeValue)),
    affected_row_count: r.affectedRowCount,
    last_insert_rowid: r.lastInsertRowid === null ? null : r.lastInsertRowid.toString(),
    replication_index: null,
    query_duration_ms: r.durationMs,
  };
}
