import { fromBase64, toBase64 } from "../base64.js";
import type {
  ArgValue,
  BatchCond,
  BatchResult,
  DescribeResult,
  IntMode,
  ProtoError,
  ResultValue,
  Stmt,
  StmtResult,
} from "../proto.js";
import { RemoteErrorCode, remoteError } from "./remote-errors.js";

/**
 * The JSON encoding of Hrana (docs/protocols.md §1.5–§1.11): integers travel as
 * decimal strings, blobs as base64, floats as JSON numbers. Responses are checked
 * as strictly as `@libsql/hrana-client` does; a wrong shape is `HRANA_PROTO_ERROR`.
 */

/** A `Value` as JSON. */
export type ValueJson =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

/** A `Stmt` as JSON: exactly one of `sql` and `sql_id`. */
export interface StmtJson {
  sql?: string;
  sql_id?: number;
  args: ValueJson[];
  named_args: { name: string; value: ValueJson }[];
  want_rows: boolean;
}

/** A `Batch` as JSON. */
export interface BatchJson {
  steps: { condition?: BatchCond; stmt: StmtJson }[];
}

/** A stream request as JSON. */
export type RequestJson =
  | { type: "close" }
  | { type: "execute"; stmt: StmtJson }
  | { type: "batch"; batch: BatchJson }
  | { type: "sequence"; sql?: string; sql_id?: number }
  | { type: "describe"; sql?: string; sql_id?: number }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: "get_autocommit" };

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Encodes an argument; the errors are `@libsql/hrana-client`'s (RangeError for what JSON cannot carry). */
export function encodeValue(value: ArgValue): ValueJson {
  if (value === null) return { type: "null" };
  switch (typeof value) {
    case "string":
      return { type: "text", value };
    case "number":
      if (!Number.isFinite(value)) {
        throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
      }
      return { type: "float", value };
    case "bigint":
      if (value < I64_MIN || value > I64_MAX) {
        throw new RangeError(
          "This bigint value is too large to be represented as a 64-bit integer and passed as argument",
        );
      }
      return { type: "integer", value: value.toString() };
  }
  return { type: "blob", base64: toBase64(value) };
}

/** Encodes a statement with its SQL inline; throws the RangeErrors of `encodeValue`. */
export function encodeStmt(stmt: Stmt): StmtJson {
  return {
    sql: stmt.sql,
    args: (stmt.args ?? []).map(encodeValue),
    named_args: Object.entries(stmt.namedArgs ?? {}).map(([name, value]) => ({ name, value: encodeValue(value) })),
    want_rows: stmt.wantRows ?? true,
  };
}

/** The statement referring to SQL stored under `sqlId` instead of carrying it (unchanged if undefined). */
export function withSqlId(stmt: StmtJson, sqlId: number | undefined): StmtJson {
  if (sqlId === undefined) return stmt;
  const { sql: _sql, ...rest } = stmt;
  return { ...rest, sql_id: sqlId };
}

function protoError(what: string): never {
  throw remoteError(RemoteErrorCode.HRANA_PROTO_ERROR, `Unexpected response from the server: ${what}`);
}

type Json = Record<string, unknown>;

/** Checks that `value` is a JSON object. */
export function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) protoError(`${what} is not an object`);
  return value as Json;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) protoError(`${what} is not an array`);
  return value;
}

function number(value: unknown, what: string): number {
  if (typeof value !== "number") protoError(`${what} is not a number`);
  return value;
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string") protoError(`${what} is not a string`);
  return value;
}

function optionalString(value: unknown, what: string): string | null {
  return value === undefined || value === null ? null : string(value, what);
}

/** Decodes an integer given as a decimal string (or, from sqld's cursor, a JSON number). */
function integer(value: unknown, what: string): bigint {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) protoError(`${what} is not an integer`);
  return BigInt(value);
}

/** Decodes a value; integers follow `intMode` (in `number` mode an unsafe one stays a bigint, so the client raises). */
export function decodeValue(json: unknown, intMode: IntMode): ResultValue {
  const v = object(json, "value");
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      if (intMode === "string") {
        if (typeof v.value === "string" && /^-?\d+$/.test(v.value)) return v.value;
        return integer(v.value, "integer value").toString();
      }
      const n = integer(v.value, "integer value");
      if (intMode === "bigint") return n;
      return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
    }
    case "float":
      // sqld writes ±Infinity as null (serde_json has no other way); the sign is lost.
      return v.value === null ? Number.NaN : number(v.value, "float value");
    case "text":
      return string(v.value, "text value");
    case "blob": {
      const text = string(v.base64, "blob value");
      try {
        // fromBase64 allocates a fresh array, so its buffer holds exactly the blob.
        return fromBase64(text).buffer as ArrayBuffer;
      } catch {
        return protoError("a blob value is not base64");
      }
    }
    default:
      return protoError(`unknown value type ${JSON.stringify(v.type)}`);
  }
}

/** Column names and declared types (`""` for null). */
export function decodeCols(json: unknown): { columns: string[]; columnTypes: string[] } {
  const cols = array(json, "cols").map((c) => object(c, "col"));
  return {
    columns: cols.map((c) => optionalString(c.name, "column name") ?? ""),
    columnTypes: cols.map((c) => optionalString(c.decltype, "column decltype") ?? ""),
  };
}

/** Decodes a rowid: a decimal string (spec), a JSON number (sqld's cursor) or null. */
export function decodeRowid(json: unknown): bigint | undefined {
  return json === null || json === undefined ? undefined : integer(json, "last_insert_rowid");
}

/** Decodes a row of values. */
export function decodeRow(json: unknown, intMode: IntMode): ResultValue[] {
  return array(json, "row").map((v) => decodeValue(v, intMode));
}

/** Decodes a `StmtResult`. */
export function decodeStmtResult(json: unknown, intMode: IntMode): StmtResult {
  const r = object(json, "statement result");
  return {
    ...decodeCols(r.cols),
    rows: array(r.rows, "rows").map((row) => decodeRow(row, intMode)),
    rowsAffected: number(r.affected_row_count, "affected_row_count"),
    lastInsertRowid: decodeRowid(r.last_insert_rowid),
  };
}

/** Decodes an error object `{message, code}`; a missing code reads as `UNKNOWN`, as in `@libsql/client`. */
export function decodeError(json: unknown): ProtoError {
  const e = object(json, "error");
  return {
    message: string(e.message, "error message"),
    code: optionalString(e.code, "error code") ?? "UNKNOWN",
  };
}

/** Decodes a `BatchResult` of `stepCount` steps (missing slots read as null). */
export function decodeBatchResult(json: unknown, stepCount: number, intMode: IntMode): BatchResult {
  const r = object(json, "batch result");
  const results = array(r.step_results, "step_results");
  const errors = array(r.step_errors, "step_errors");
  if (results.length > stepCount || errors.length > stepCount) protoError("more batch step results than steps");
  const stepResults: BatchResult["stepResults"] = [];
  const stepErrors: BatchResult["stepErrors"] = [];
  for (let i = 0; i < stepCount; i++) {
    const result = results[i];
    const error = errors[i];
    stepResults.push(result === undefined || result === null ? null : decodeStmtResult(result, intMode));
    stepErrors.push(error === undefined || error === null ? null : decodeError(error));
  }
  return { stepResults, stepErrors };
}

/** Decodes a `DescribeResult`. */
export function decodeDescribeResult(json: unknown): DescribeResult {
  const r = object(json, "describe result");
  return {
    params: array(r.params, "params").map((p) => optionalString(object(p, "param").name, "param name")),
    ...decodeCols(r.cols),
    isExplain: r.is_explain === true,
    isReadonly: r.is_readonly === true,
  };
}

/** One result of a pipeline: the response of the request, or its error. */
export type PipelineResult = { ok: true; response: Json } | { ok: false; error: ProtoError };

/** A decoded pipeline response body. */
export interface PipelineResponse {
  baton: string | null;
  baseUrl: string | null;
  results: PipelineResult[];
}

/** Decodes a pipeline response, checking each result's type against its request's. */
export function decodePipelineResponse(json: unknown, requests: readonly RequestJson[]): PipelineResponse {
  const body = object(json, "pipeline response");
  const results = array(body.results, "results");
  if (results.length !== requests.length) protoError("the number of results differs from the number of requests");
  return {
    baton: optionalString(body.baton, "baton"),
    baseUrl: optionalString(body.base_url, "base_url"),
    results: results.map((item, i): PipelineResult => {
      const result = object(item, "result");
      if (result.type === "ok") {
        const response = object(result.response, "response");
        if (response.type !== requests[i]?.type) protoError("a response does not match its request");
        return { ok: true, response };
      }
      if (result.type === "error") return { ok: false, error: decodeError(result.error) };
      return protoError(`unknown result type ${JSON.stringify(result.type)}`);
    }),
  };
}
