import { LibsqlError } from "../../src/errors.js";
import type { ArgValue } from "../../src/proto.js";
import { SQLITE } from "./raw-exports.js";
import type { Sqlite } from "./sqlite.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const PREFIXES = [":", "@", "$"] as const;

/** Values at least this large are worth unbinding once the statement ran. */
const LARGE_VALUE = 65536;

/**
 * Binds positional or named arguments to `stmt`. As sqld does, every parameter
 * must get a value and positional arguments may not outnumber the parameters;
 * named arguments match with or without their `:`/`@`/`$` prefix, and names
 * the statement does not use are ignored. Since every parameter is bound each
 * time, no earlier value survives; returns true when a large text or blob was
 * bound, so that the caller can release SQLite's copy after the run.
 */
export function bindArgs(
  sqlite: Sqlite,
  db: number,
  stmt: number,
  args: readonly ArgValue[] | undefined,
  namedArgs: Readonly<Record<string, ArgValue>> | undefined,
  statement: { params(): (string | null)[] },
): boolean {
  const count = sqlite.x.sqlite3_bind_parameter_count(stmt);
  const positional = args?.length ?? 0;
  const named = namedArgs ? Object.keys(namedArgs) : undefined;
  if (positional > 0 && named !== undefined && named.length > 0) {
    throw new LibsqlError(
      "a statement cannot take both positional and named arguments",
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
    );
  }
  if (named === undefined || named.length === 0) {
    if (positional > count) {
      throw new LibsqlError(
        `too many arguments: the statement has ${count} parameter(s), got ${positional}`,
        "ARGS_INVALID",
      );
    }
    if (positional < count) {
      const name = paramName(statement, positional + 1) ?? `?${positional + 1}`;
      throw new LibsqlError(
        `value for parameter ${name} not found: the statement has ${count} parameter(s), got ${positional}`,
        "ARGS_INVALID",
      );
    }
    let large = false;
    for (let i = 0; i < positional; i++) large = bindValue(sqlite, db, stmt, i + 1, (args as ArgValue[])[i]) || large;
    return large;
  }
  let large = false;
  let bound = 0;
  const seen = new Uint8Array(count + 1);
  for (const key of named) {
    const index = parameterIndex(sqlite, stmt, key);
    if (index === 0 || seen[index]) continue;
    seen[index] = 1;
    bound++;
    large = bindValue(sqlite, db, stmt, index, (namedArgs as Record<string, ArgValue>)[key]) || large;
  }
  if (bound < count) {
    for (let i = 1; i <= count; i++) {
      if (!seen[i]) {
        throw new LibsqlError(`value for parameter ${paramName(statement, i) ?? `?${i}`} not found`, "ARGS_INVALID");
      }
    }
  }
  return large;
}

function paramName(statement: { params(): (string | null)[] }, index: number): string | null {
  return statement.params()[index - 1] ?? null;
}

function parameterIndex(sqlite: Sqlite, stmt: number, key: string): number {
  const first = key.charAt(0);
  if (first === ":" || first === "@" || first === "$" || first === "?") {
    return sqlite.x.sqlite3_bind_parameter_index(stmt, sqlite.encode(key));
  }
  for (const prefix of PREFIXES) {
    const index = sqlite.x.sqlite3_bind_parameter_index(stmt, sqlite.encode(prefix + key));
    if (index !== 0) return index;
  }
  return 0;
}

/** Binds one value at 1-based `index`; rejects values of unsupported types. True for a large value. */
export function bindValue(sqlite: Sqlite, db: number, stmt: number, index: number, value: unknown): boolean {
  const { x } = sqlite;
  let rc: number;
  let large = false;
  if (value === null) {
    rc = x.sqlite3_bind_null(stmt, index);
  } else if (typeof value === "string") {
    if (value.length > LARGE_VALUE) {
      large = true;
      const p = sqlite.encodeOwned(value);
      try {
        rc = x.sqlite3_bind_text(stmt, index, p, sqlite.lastLength, SQLITE.TRANSIENT);
      } finally {
        x.sqlite3_free(p);
      }
    } else {
      const p = sqlite.encode(value);
      rc = x.sqlite3_bind_text(stmt, index, p, sqlite.lastLength, SQLITE.TRANSIENT);
    }
  } else if (typeof value === "number") {
    rc = x.sqlite3_bind_double(stmt, index, value);
  } else if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new RangeError("bigint is too large to be represented as a 64-bit integer and passed as argument");
    }
    rc = x.sqlite3_bind_int64(stmt, index, value);
  } else if (value instanceof Uint8Array) {
    large = value.byteLength > LARGE_VALUE;
    const p = value.byteLength > 0 ? sqlite.copyIn(value) : sqlite.scratch(1);
    try {
      rc = x.sqlite3_bind_blob(stmt, index, p, value.byteLength, SQLITE.TRANSIENT);
    } finally {
      if (value.byteLength > 0) x.sqlite3_free(p);
    }
  } else {
    const kind = value === undefined ? "undefined" : typeof value === "object" ? value.constructor?.name : typeof value;
    throw new LibsqlError(`unsupported argument type ${kind ?? "object"} for parameter ${index}`, "ARGS_INVALID");
  }
  if (rc !== SQLITE.OK) throw sqlite.error(db, rc);
  return large;
}
