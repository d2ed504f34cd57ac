import type { IntMode, ResultValue } from "../../src/proto.js";
import type { ValueBlockWriter } from "../../src/worker/value-block.js";
import { SQLITE } from "./raw-exports.js";
import { API, cellBytes, cellFloat, cellInteger, cellLength, cellType, MEM_SIZE, resultRow } from "./result-cells.js";
import type { Sqlite } from "./sqlite.js";

/**
 * Reads the current row of `stmt` (`n` columns) as JavaScript values.
 *
 * In `number` mode an integer beyond 2^53 comes back as a `bigint`: the client
 * turns it into the RangeError `@libsql/client` throws, once the call has
 * finished, so that a batch never stops half-way on the engine side.
 */
export function readRow(sqlite: Sqlite, stmt: number, n: number, intMode: IntMode): ResultValue[] {
  const row = new Array<ResultValue>(n);
  readRowInto(sqlite, stmt, n, intMode, row, 0);
  return row;
}

/**
 * Reads the current row of `stmt` as `readRow` does, into `row` from index
 * `at` onwards: plain cells straight from the heap (`result-cells.ts`), the
 * others through the C API.
 */
export function readRowInto(
  sqlite: Sqlite,
  stmt: number,
  n: number,
  intMode: IntMode,
  row: ResultValue[],
  at: number,
): void {
  const first = resultRow(sqlite, stmt);
  for (let c = 0; c < n; c++) {
    const mem = first + c * MEM_SIZE;
    switch (first === 0 ? API : cellType(sqlite, mem)) {
      case SQLITE.NULL:
        row[at + c] = null;
        break;
      case SQLITE.INTEGER: {
        const d = cellInteger(sqlite, mem);
        row[at + c] = intMode === "number" ? d : intMode === "bigint" ? BigInt(d) : String(d);
        break;
      }
      case SQLITE.FLOAT:
        row[at + c] = cellFloat(sqlite, mem);
        break;
      case SQLITE.TEXT:
        row[at + c] = sqlite.decode(cellBytes(sqlite, mem), cellLength(sqlite, mem));
        break;
      case SQLITE.BLOB:
        row[at + c] = copyBlob(sqlite, cellBytes(sqlite, mem), cellLength(sqlite, mem));
        break;
      default:
        row[at + c] = readCell(sqlite, stmt, c, intMode);
    }
  }
}

/** Reads cell `c` of the current row through the C API. */
function readCell(sqlite: Sqlite, stmt: number, c: number, intMode: IntMode): ResultValue {
  const { x } = sqlite;
  switch (x.sqlite3_column_type(stmt, c)) {
    case SQLITE.INTEGER: {
      // Reading as a double is exact for every safe integer and avoids a
      // BigInt allocation per cell; larger magnitudes fall back to int64.
      const d = x.sqlite3_column_double(stmt, c);
      if (Number.isSafeInteger(d)) return intMode === "number" ? d : intMode === "bigint" ? BigInt(d) : String(d);
      const big = x.sqlite3_column_int64(stmt, c);
      return intMode === "string" ? big.toString() : big;
    }
    case SQLITE.FLOAT:
      return x.sqlite3_column_double(stmt, c);
    case SQLITE.TEXT: {
      // sqlite3_column_text first: it may convert the value, changing its byte count.
      const p = x.sqlite3_column_text(stmt, c);
      return sqlite.decode(p, x.sqlite3_column_bytes(stmt, c));
    }
    case SQLITE.BLOB: {
      const p = x.sqlite3_column_blob(stmt, c);
      return copyBlob(sqlite, p, x.sqlite3_column_bytes(stmt, c));
    }
    default:
      return null;
  }
}

/**
 * Reads the current row of `stmt` into `writer`, as `readRow` would read it,
 * except that text stays UTF-8 and safe integers in `bigint` mode stay
 * numbers until the page reads them.
 */
export function packRow(sqlite: Sqlite, stmt: number, n: number, intMode: IntMode, writer: ValueBlockWriter): void {
  const first = resultRow(sqlite, stmt);
  for (let c = 0; c < n; c++) {
    const mem = first + c * MEM_SIZE;
    switch (first === 0 ? API : cellType(sqlite, mem)) {
      case SQLITE.NULL:
        writer.pushNull();
        break;
      case SQLITE.INTEGER:
        packInteger(writer, cellInteger(sqlite, mem), intMode);
        break;
      case SQLITE.FLOAT:
        writer.pushNumber(cellFloat(sqlite, mem));
        break;
      case SQLITE.TEXT:
        writer.pushUtf8(sqlite.u8, cellBytes(sqlite, mem), cellLength(sqlite, mem));
        break;
      case SQLITE.BLOB:
        writer.pushOther(copyBlob(sqlite, cellBytes(sqlite, mem), cellLength(sqlite, mem)));
        break;
      default:
        packCell(sqlite, stmt, c, intMode, writer);
    }
  }
}

function packInteger(writer: ValueBlockWriter, d: number, intMode: IntMode): void {
  if (intMode === "number") writer.pushNumber(d);
  else if (intMode === "bigint") writer.pushSafeInteger(d);
  else writer.pushString(String(d));
}

/** Packs cell `c` of the current row, read through the C API. */
function packCell(sqlite: Sqlite, stmt: number, c: number, intMode: IntMode, writer: ValueBlockWriter): void {
  const { x } = sqlite;
  switch (x.sqlite3_column_type(stmt, c)) {
    case SQLITE.INTEGER: {
      const d = x.sqlite3_column_double(stmt, c);
      if (Number.isSafeInteger(d)) {
        packInteger(writer, d, intMode);
      } else {
        const big = x.sqlite3_column_int64(stmt, c);
        if (intMode === "string") writer.pushString(big.toString());
        else writer.pushInteger(big);
      }
      break;
    }
    case SQLITE.FLOAT:
      writer.pushNumber(x.sqlite3_column_double(stmt, c));
      break;
    case SQLITE.TEXT: {
      // sqlite3_column_text first: it may convert the value, changing its byte count.
      const p = x.sqlite3_column_text(stmt, c);
      writer.pushUtf8(sqlite.u8, p, x.sqlite3_column_bytes(stmt, c));
      break;
    }
    case SQLITE.BLOB: {
      const p = x.sqlite3_column_blob(stmt, c);
      writer.pushOther(copyBlob(sqlite, p, x.sqlite3_column_bytes(stmt, c)));
      break;
    }
    default:
      writer.pushNull();
  }
}

/** Copies `size` bytes of a blob at `p` out of the heap. */
function copyBlob(sqlite: Sqlite, p: number, size: number): ArrayBuffer {
  return size === 0 ? new ArrayBuffer(0) : sqlite.u8.slice(p, p + size).buffer;
}
