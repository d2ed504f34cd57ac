import { SQLITE } from "./raw-exports.js";
import type { Sqlite } from "./sqlite.js";

/**
 * The current row's values read straight from the prepared statement in the
 * wasm heap (`Vdbe.pResultRow`: an array of `Mem`), in the cases that are
 * plain: NULL, an integer within 2^53, a float, UTF-8 text, a blob. Through
 * the C API a cell costs two or three calls into wasm (its type, then its
 * value); these read a few words of memory instead. Anything else (a value
 * held in two forms, a zeroblob, text in another encoding, an integer beyond
 * 2^53) answers `API`, and the caller reads that cell through the C API.
 * `probeResultRow` finds the field once per build and checks every case
 * against the C API; until it has, nothing is read directly.
 */

/** Read this cell through the C API. */
export const API = 0;

/** `sizeof(Mem)` and its fields on wasm32 (the statement layout probe checks the same layout). */
export const MEM_SIZE = 40;
const MEM_Z = 8;
const MEM_N = 12;
const MEM_FLAGS = 16;

const MEM_NULL = 0x0001;
const MEM_STR = 0x0002;
const MEM_INT = 0x0004;
const MEM_REAL = 0x0008;
const MEM_BLOB = 0x0010;
const MEM_TYPE_MASK = 0x003f;
const MEM_ZERO = 0x0400;
const ENC_UTF8 = 1;
/** Integers whose high word lies strictly within ±this are safe integers (below 2^53 in magnitude). */
const SAFE_HIGH = 0x200000;

/** Address of the current row's first `Mem`, or 0 when cells are read through the C API. */
export function resultRow(sqlite: Sqlite, stmt: number): number {
  const offset = sqlite.resultRowOffset;
  return offset < 0 ? 0 : (sqlite.i32[(stmt + offset) >> 2] as number);
}

/** The SQLite type of the cell at `mem` when it can be read directly; `API` otherwise. */
export function cellType(sqlite: Sqlite, mem: number): number {
  const word = sqlite.i32[(mem + MEM_FLAGS) >> 2] as number;
  switch (word & MEM_TYPE_MASK) {
    case MEM_NULL:
      return SQLITE.NULL;
    case MEM_INT: {
      const high = sqlite.i32[(mem >> 2) + 1] as number;
      return high > -SAFE_HIGH && high < SAFE_HIGH ? SQLITE.INTEGER : API;
    }
    case MEM_REAL:
      return (mem & 7) === 0 ? SQLITE.FLOAT : API;
    case MEM_STR:
      return ((word >>> 16) & 0xff) === ENC_UTF8 ? SQLITE.TEXT : API;
    case MEM_BLOB:
      return word & MEM_ZERO ? API : SQLITE.BLOB;
    default:
      return API;
  }
}

/** The integer at `mem` (`cellType` said INTEGER). */
export function cellInteger(sqlite: Sqlite, mem: number): number {
  const i32 = sqlite.i32;
  return (i32[(mem >> 2) + 1] as number) * 4294967296 + ((i32[mem >> 2] as number) >>> 0);
}

/** The float at `mem` (`cellType` said FLOAT). */
export function cellFloat(sqlite: Sqlite, mem: number): number {
  return sqlite.f64[mem >> 3] as number;
}

/** Address of the text or blob bytes at `mem`. */
export function cellBytes(sqlite: Sqlite, mem: number): number {
  return sqlite.i32[(mem + MEM_Z) >> 2] as number;
}

/** Byte count of the text or blob at `mem`. */
export function cellLength(sqlite: Sqlite, mem: number): number {
  return sqlite.i32[(mem + MEM_N) >> 2] as number;
}

/** Statements whose rows the probe reads both ways: every cell kind, EXPLAIN's own rows, a pragma. */
const PROBE_SQL = [
  "SELECT 1234567, 'probe-text', 2.5, NULL, x'0a0b0c', 9007199254740993, CAST(7 AS TEXT), zeroblob(2) " +
    "UNION ALL SELECT -7654321, 'ünïcødé', -0.0, NULL, x'', -9007199254740993, 3, 'x'",
  "EXPLAIN SELECT 1",
  "PRAGMA compile_options",
];

/**
 * Finds `Vdbe.pResultRow` in this build and sets `sqlite.resultRowOffset`,
 * after checking that reading cells directly gives exactly what the C API
 * gives on the probe's statements. If anything differs, cells keep being read
 * through the C API (slower, never wrong).
 */
export function probeResultRow(sqlite: Sqlite, db: number, readRow: (stmt: number, n: number) => unknown[]): void {
  const { x } = sqlite;
  sqlite.resultRowOffset = -1;
  const prepare = (sql: string) => {
    const p = sqlite.encode(sql);
    if (x.sqlite3_prepare_v2(db, p, sqlite.lastLength, sqlite.out, 0) !== SQLITE.OK) return 0;
    return sqlite.i32[sqlite.out >> 2] as number;
  };
  const first = prepare(PROBE_SQL[0] as string);
  if (first === 0) return;
  let offset = -1;
  try {
    if (x.sqlite3_step(first) !== SQLITE.ROW) return;
    for (let off = 0; off < 512 && offset < 0; off += 4) {
      const mem = sqlite.i32[(first + off) >> 2] as number;
      if (mem <= 0 || mem + 8 * MEM_SIZE > sqlite.u8.length) continue;
      if (
        cellType(sqlite, mem) === SQLITE.INTEGER &&
        cellInteger(sqlite, mem) === 1234567 &&
        cellType(sqlite, mem + MEM_SIZE) === SQLITE.TEXT &&
        sqlite.decode(cellBytes(sqlite, mem + MEM_SIZE), cellLength(sqlite, mem + MEM_SIZE)) === "probe-text"
      ) {
        offset = off;
      }
    }
  } finally {
    x.sqlite3_finalize(first);
  }
  if (offset < 0) return;
  const rowsOf = (sql: string, direct: boolean): string | null => {
    sqlite.resultRowOffset = direct ? offset : -1;
    const stmt = prepare(sql);
    if (stmt === 0) return null;
    try {
      const n = x.sqlite3_column_count(stmt);
      const rows: string[] = [];
      while (x.sqlite3_step(stmt) === SQLITE.ROW) rows.push(readRow(stmt, n).map(describe).join("|"));
      return rows.join("\n");
    } finally {
      x.sqlite3_finalize(stmt);
    }
  };
  for (const sql of PROBE_SQL) {
    const viaApi = rowsOf(sql, false);
    if (viaApi === null || viaApi === "" || rowsOf(sql, true) !== viaApi) {
      sqlite.resultRowOffset = -1;
      return;
    }
  }
  sqlite.resultRowOffset = offset;
}

/** A value as comparable text (blobs in hex, bigints marked, -0 kept). */
function describe(value: unknown): string {
  if (value instanceof ArrayBuffer) return `b:${[...new Uint8Array(value)].map((b) => b.toString(16)).join(",")}`;
  if (typeof value === "bigint") return `i:${value}`;
  if (Object.is(value, -0)) return "-0";
  return `${typeof value}:${String(value)}`;
}
