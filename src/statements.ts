import type { InArgs, InStatement, InValue } from "./api.js";
import { LibsqlError } from "./errors.js";
import { setOwn } from "./own-property.js";
import type { ArgValue, Stmt } from "./proto.js";

/** Converts a caller's value to what the engine binds (booleans as 1/0 integers, dates as epoch ms). */
export function toArgValue(value: InValue): ArgValue {
  switch (typeof value) {
    case "number":
      // The same RangeError as @libsql/client (SQLite would store NaN as NULL).
      if (!Number.isFinite(value))
        throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
      return value;
    case "string":
    case "bigint":
      return value;
    case "boolean":
      return value ? 1n : 0n;
    case "undefined":
      // The same TypeError as @libsql/client.
      throw new TypeError("undefined cannot be passed as argument to the database");
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof Date) return value.valueOf();
  const kind = (value as object)?.constructor?.name ?? typeof value;
  throw new LibsqlError(
    `unsupported argument of type ${kind}: expected null, string, number, bigint, boolean, Uint8Array, ArrayBuffer or Date`,
    "ARGS_INVALID",
  );
}

/** True for values the engine binds as they are. */
function isArgValue(value: InValue): boolean {
  const type = typeof value;
  return (
    type === "string" ||
    (type === "number" && Number.isFinite(value)) ||
    type === "bigint" ||
    value === null ||
    value instanceof Uint8Array
  );
}

/** Converts positional or named arguments (an array of engine-ready values is passed on as it is). */
export function toArgs(args: InArgs | undefined): Pick<Stmt, "args" | "namedArgs"> {
  if (args === undefined || args === null) return {};
  const list = toArgList(args);
  return Array.isArray(list) ? { args: list } : { namedArgs: list };
}

/**
 * The same as one list: positional arguments as an array (none: empty),
 * named ones as an object. What `runMany` sends for each of its lists.
 */
export function toArgList(args: InArgs | undefined): ArgValue[] | Record<string, ArgValue> {
  if (args === undefined || args === null) return [];
  if (Array.isArray(args)) {
    for (let i = 0; i < args.length; i++) if (!isArgValue(args[i])) return args.map(toArgValue);
    return args as ArgValue[];
  }
  if (typeof args !== "object") {
    throw new LibsqlError(`arguments must be an array or an object, got ${typeof args}`, "ARGS_INVALID");
  }
  const namedArgs: Record<string, ArgValue> = {};
  for (const [name, value] of Object.entries(args)) setOwn(namedArgs, name, toArgValue(value));
  return namedArgs;
}

/** A statement in any accepted form (`"sql"`, `{sql, args}`, `[sql, args]`) as the engine takes it. */
export function toStmt(stmt: InStatement | [string, InArgs?], args?: InArgs): Stmt {
  if (typeof stmt === "string") return { sql: stmt, ...toArgs(args) };
  if (Array.isArray(stmt)) return { sql: requireSql(stmt[0]), ...toArgs(stmt[1]) };
  if (stmt === null || typeof stmt !== "object") {
    throw new LibsqlError(`expected a statement (string or {sql, args}), got ${typeof stmt}`, "ARGS_INVALID");
  }
  return { sql: requireSql(stmt.sql), ...toArgs(stmt.args) };
}

function requireSql(sql: unknown): string {
  if (typeof sql !== "string") {
    throw new LibsqlError(`the SQL of a statement must be a string, got ${typeof sql}`, "ARGS_INVALID");
  }
  return sql;
}
