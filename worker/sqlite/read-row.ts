import type { IntMode, ResultValue } from "../../src/proto.js";
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
  const { x } = sqlite;
  const row = new Array<ResultValue>(n);
  for (let i = 0; i < n; i++) {
    switch (x.sqlite3_column_type(stmt, i)) {
      case SQLITE.INTEGER: {
        // Reading as a double is exact for every safe integer and avoids a
        // BigInt allocation per cell; larger magnitudes fall back to int64.
        const d = x.sqlite3_column_double(stmt, i);
        if (Number.isSafeInteger(d)) {
          row[i] = intMode === "number" ? d : intMode === "bigint" ? BigInt(d) : String(d);
        } else {
          const big = x.sqlite3_column_int64(stmt, i);
          row[i] = intMode === "string" ? big.toString() : big;
        }
        break;
      }
      case SQLITE.FLOAT:
        row[i] = x.sqlite3_column_double(stmt, i);
        break;
      case SQLITE.TEXT: {
        const p = x.sqlite3_column_text(stmt, i);
        row[i] = sqlite.decode(p, x.sqlite3_column_bytes(stmt, i));
        break;
      }
      case SQLITE.BLOB: {
        const p = x.sqlite3_column_blob(stmt, i);
        const size = x.sqlite3_column_bytes(stmt, i);
        row[i] = size === 0 ? new ArrayBuffer(0) : sqlite.u8.slice(p, p + size).buffer;
        break;
      }
      default:
        row[i] = null;
    }
  }
  return row;
}
