import type { IntMode, ResultValue } from "../../src/proto.js";
import type { ValueBlockWriter } from "../../src/worker/value-block.js";
import { SQLITE } from "./raw-exports.js";
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

/** Reads the current row of `stmt` as `readRow` does, into `row` from index `at` onwards. */
export function readRowInto(
  sqlite: Sqlite,
  stmt: number,
  n: number,
  intMode: IntMode,
  row: ResultValue[],
  at: number,
): void {
  const { x } = sqlite;
  for (let c = 0; c < n; c++) {
    const i = at + c;
    switch (x.sqlite3_column_type(stmt, c)) {
      case SQLITE.INTEGER: {
        // Reading as a double is exact for every safe integer and avoids a
        // BigInt allocation per cell; larger magnitudes fall back to int64.
        const d = x.sqlite3_column_double(stmt, c);
        if (Number.isSafeInteger(d)) {
          row[i] = intMode === "number" ? d : intMode === "bigint" ? BigInt(d) : String(d);
        } else {
          const big = x.sqlite3_column_int64(stmt, c);
          row[i] = intMode === "string" ? big.toString() : big;
        }
        break;
      }
      case SQLITE.FLOAT:
        row[i] = x.sqlite3_column_double(stmt, c);
        break;
      case SQLITE.TEXT: {
        const p = x.sqlite3_column_text(stmt, c);
        row[i] = sqlite.decode(p, x.sqlite3_column_bytes(stmt, c));
        break;
      }
      case SQLITE.BLOB:
        row[i] = readBlob(sqlite, stmt, c);
        break;
      default:
        row[i] = null;
    }
  }
}

/**
 * Reads the current row of `stmt` into `writer`, as `readRow` would read it,
 * except that text stays UTF-8 and safe integers in `bigint` mode stay
 * numbers until the page reads them.
 */
export function packRow(sqlite: Sqlite, stmt: number, n: number, intMode: IntMode, writer: ValueBlockWriter): void {
  const { x } = sqlite;
  const columnType = x.sqlite3_column_type;
  const columnDouble = x.sqlite3_column_double;
  const asNumber = intMode === "number";
  const asBigint = intMode === "bigint";
  for (let i = 0; i < n; i++) {
    switch (columnType(stmt, i)) {
      case SQLITE.INTEGER: {
        const d = columnDouble(stmt, i);
        if (Number.isSafeInteger(d)) {
          if (asNumber) writer.pushNumber(d);
          else if (asBigint) writer.pushSafeInteger(d);
          else writer.pushString(String(d));
        } else {
          const big = x.sqlite3_column_int64(stmt, i);
          if (asNumber || asBigint) writer.pushInteger(big);
          else writer.pushString(big.toString());
        }
        break;
      }
      case SQLITE.FLOAT:
        writer.pushNumber(columnDouble(stmt, i));
        break;
      case SQLITE.TEXT: {
        // sqlite3_column_text first: it may convert the value, changing its byte count.
        const p = x.sqlite3_column_text(stmt, i);
        writer.pushUtf8(sqlite.u8, p, x.sqlite3_column_bytes(stmt, i));
        break;
      }
      case SQLITE.BLOB:
        writer.pushOther(readBlob(sqlite, stmt, i));
        break;
      default:
        writer.pushNull();
    }
  }
}

/** Copies the blob in column `i` out of the heap. */
function readBlob(sqlite: Sqlite, stmt: number, i: number): ArrayBuffer {
  const { x } = sqlite;
  const p = x.sqlite3_column_blob(stmt, i);
  const size = x.sqlite3_column_bytes(stmt, i);
  return size === 0 ? new ArrayBuffer(0) : sqlite.u8.slice(p, p + size).buffer;
}
