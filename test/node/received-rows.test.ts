import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlatRows, ResultValue } from "../../src/proto.js";
import { firstRows, receivedArrays, receivedCount, receivedRow } from "../../src/received-rows.js";
import { buildRows, lazyRows } from "../../src/result-set.js";

const flat = (rows: ResultValue[][], width: number): FlatRows => ({ width, count: rows.length, values: rows.flat() });

/** What a row shows: its keys and values by name, by index, its length and its JSON. */
const view = (row: Record<string | number, unknown>) => ({
  keys: Object.keys(row),
  byName: { ...row },
  byIndex: Array.from({ length: row.length as number }, (_, i) => row[i]),
  json: JSON.stringify(row, (_key, value) => (typeof value === "bigint" ? `${value}n` : value)),
});

describe("rows received flat (from a worker)", () => {
  it("build the same rows as arrays do, whatever the column names", () => {
    const value = fc.oneof(fc.constant(null), fc.double({ noNaN: true }), fc.string(), fc.bigInt());
    const names = fc.array(fc.constantFrom("a", "b", "length", "0", "1", "__proto__", "constructor"), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        names.chain((columns) =>
          fc.tuple(
            fc.constant(columns),
            fc.array(fc.array(value, { minLength: columns.length, maxLength: columns.length }), { maxLength: 8 }),
          ),
        ),
        ([columns, rows]) => {
          const fromArrays = buildRows(columns, rows, "bigint").map((row) => view(row as never));
          const fromFlat = buildRows(columns, flat(rows, columns.length), "bigint").map((row) => view(row as never));
          expect(fromFlat).toEqual(fromArrays);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuse an integer beyond 2^53 in number mode, as arrays do", () => {
    const rows = [
      [1, "x"],
      [2n ** 60n, "y"],
    ];
    expect(() => buildRows(["n", "s"], rows, "number")).toThrow(RangeError);
    expect(() => buildRows(["n", "s"], flat(rows, 2), "number")).toThrow(RangeError);
    // A cursor's rows are built one at a time, but the chunk is refused as a whole, before any row is read.
    expect(() => lazyRows(["n", "s"], flat(rows, 2), "number")).toThrow(RangeError);
  });

  it("build one row at a time for a cursor, a new object each time, the same as whole", () => {
    const rows = [
      [1, "a"],
      [2, "b"],
    ];
    for (const received of [rows, flat(rows, 2)]) {
      const lazy = lazyRows(["n", "s"], received, "number");
      expect(lazy.count).toBe(2);
      expect(lazy.row(1)).not.toBe(lazy.row(1));
      expect([lazy.row(0), lazy.row(1)].map((row) => view(row as never))).toEqual(
        buildRows(["n", "s"], rows, "number").map((row) => view(row as never)),
      );
    }
    expect(lazyRows(["n"], [], "number").count).toBe(0);
  });

  it("give back counts, single rows, leading rows and arrays", () => {
    const rows = [
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ];
    const f = flat(rows, 2);
    expect(receivedCount(f)).toBe(3);
    expect(receivedRow(f, 1)).toEqual([2, "b"]);
    expect(receivedRow(f, 3)).toBeUndefined();
    expect(receivedRow(f, -1)).toBeUndefined();
    expect(firstRows(f, 2)).toEqual(flat(rows.slice(0, 2), 2));
    expect(firstRows(f, 9)).toEqual(f);
    expect(receivedArrays(f)).toEqual(rows);
    expect(receivedArrays(rows)).toBe(rows);
    expect(firstRows(rows, 1)).toEqual([[1, "a"]]);
  });
});
