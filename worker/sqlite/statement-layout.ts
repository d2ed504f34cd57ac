import { LibsqlError } from "../../src/errors.js";
import { SQLITE } from "./raw-exports.js";
import type { Sqlite } from "./sqlite.js";

/**
 * Declared column types and parameter names, read from SQLite's prepared
 * statement (`Vdbe`) in the wasm heap.
 *
 * Why: this wasm build does not export `sqlite3_column_decltype` or
 * `sqlite3_bind_parameter_name`, yet SQLite computes both while preparing. The
 * Vdbe keeps result column names and declared types in `aColName` (an array of
 * `Mem`, names first, then declared types) and parameter names in `pVList`. Their
 * offsets depend only on the build, so `probeStatementLayout()` finds them once
 * on a statement whose answers are known, and refuses to run if that fails.
 */
export interface StatementLayout {
  /** Byte offset of `Vdbe.aColName`. */
  colNameOffset: number;
  /** `sizeof(Mem)`. */
  memSize: number;
  /** Byte offset of `Mem.z` and `Mem.flags`. */
  memZOffset: number;
  memFlagsOffset: number;
  /** Byte offset of `Vdbe.pVList`. */
  vlistOffset: number;
}

const MEM_STR = 0x0002;
const PROBE_TABLE = "__libsql_web_layout_probe";

/** Finds the Vdbe field offsets of this build, checking them on a known statement. */
export function probeStatementLayout(sqlite: Sqlite, db: number): StatementLayout {
  const { x } = sqlite;
  const exec = (sql: string) => sqlite.check(db, x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
  exec(`CREATE TEMP TABLE ${PROBE_TABLE}(alpha ALPHA_TYPE, beta BETA_TYPE)`);
  const sql = `SELECT alpha, beta, :probe_name, ?5 FROM ${PROBE_TABLE}`;
  const stmt = prepareOne(sqlite, db, sql);
  try {
    const name0 = x.sqlite3_column_name(stmt, 0);
    const name1 = x.sqlite3_column_name(stmt, 1);
    let layout: StatementLayout | undefined;
    for (let off = 0; off < 512 && !layout; off += 4) {
      const base = sqlite.i32[(stmt + off) >> 2] as number;
      if (base <= 0 || base + 512 > sqlite.u8.length) continue;
      // Mem.z sits after the 8-byte value union; sizeof(Mem) is 40 on wasm32.
      if (sqlite.i32[(base + 8) >> 2] === name0 && sqlite.i32[(base + 48) >> 2] === name1) {
        layout = { colNameOffset: off, memSize: 40, memZOffset: 8, memFlagsOffset: 16, vlistOffset: -1 };
      }
    }
    if (!layout) throw layoutError("column names");
    for (let off = 0; off < 512; off += 4) {
      const list = sqlite.i32[(stmt + off) >> 2] as number;
      if (list <= 0 || list + 64 > sqlite.u8.length) continue;
      if (sqlite.cstr(list + 16) === ":probe_name" && sqlite.i32[(list + 8) >> 2] === 1) {
        layout.vlistOffset = off;
        break;
      }
    }
    if (layout.vlistOffset < 0) throw layoutError("parameter names");
    const types = declaredTypes(sqlite, layout, stmt, 4);
    const params = parameterNames(sqlite, layout, stmt);
    const expected = JSON.stringify([
      ["ALPHA_TYPE", "BETA_TYPE", "", ""],
      [":probe_name", null, null, null, "?5"],
    ]);
    if (JSON.stringify([types, params]) !== expected) throw layoutError("a known statement");
    return layout;
  } finally {
    x.sqlite3_finalize(stmt);
    exec(`DROP TABLE temp.${PROBE_TABLE}`);
  }
}

/** Declared types of a statement's `n` result columns (`""` for none). */
export function declaredTypes(sqlite: Sqlite, layout: StatementLayout, stmt: number, n: number): string[] {
  const i32 = sqlite.i32;
  const base = i32[(stmt + layout.colNameOffset) >> 2] as number;
  const types = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const mem = base + (i + n) * layout.memSize;
    const flags = sqlite.u8[mem + layout.memFlagsOffset] as number;
    types[i] = flags & MEM_STR ? sqlite.cstr(i32[(mem + layout.memZOffset) >> 2] as number) : "";
  }
  return types;
}

/** Names of a statement's parameters by position; null for anonymous `?`. */
export function parameterNames(sqlite: Sqlite, layout: StatementLayout, stmt: number): (string | null)[] {
  const count = sqlite.x.sqlite3_bind_parameter_count(stmt);
  const names = new Array<string | null>(count).fill(null);
  const list = sqlite.i32[(stmt + layout.vlistOffset) >> 2] as number;
  if (list === 0) return names;
  // VList: [nAlloc, nUsed, then entries of {iVar, nWords, "name\0"...}].
  const used = sqlite.i32[(list + 4) >> 2] as number;
  for (let i = 2; i < used; ) {
    const index = sqlite.i32[(list + i * 4) >> 2] as number;
    const words = sqlite.i32[(list + i * 4 + 4) >> 2] as number;
    if (index >= 1 && index <= count) names[index - 1] = sqlite.cstr(list + i * 4 + 8);
    if (words <= 0) break;
    i += words;
  }
  return names;
}

/** Prepares exactly one statement of `sql` (uncached); throws on errors. */
export function prepareOne(sqlite: Sqlite, db: number, sql: string): number {
  const p = sqlite.encode(sql);
  const rc = sqlite.x.sqlite3_prepare_v2(db, p, sqlite.lastLength, sqlite.out, 0);
  if (rc !== SQLITE.OK) throw sqlite.error(db, rc);
  return sqlite.i32[sqlite.out >> 2] as number;
}

function layoutError(what: string): LibsqlError {
  return new LibsqlError(
    `could not locate ${what} in this SQLite build's prepared statements; the wasm engine is not the one libsql-web was built for`,
    "ENGINE_INIT_FAILED",
  );
}
