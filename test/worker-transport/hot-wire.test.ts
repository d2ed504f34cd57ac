import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArgValue, BatchResult, BatchStep, CursorChunk, PackedArgs, ResultValue, Stmt } from "../../src/proto.js";
import { receivedArrays } from "../../src/received-rows.js";
import {
  decodeArgsList,
  decodeBatchResult,
  decodeCursorChunk,
  decodeRows,
  decodeSteps,
  decodeStmt,
  decodeStmtResult,
  encodeArgsList,
  encodeBatchResult,
  encodeCursorChunk,
  encodeRows,
  encodeSteps,
  encodeStmt,
  encodeStmtResult,
} from "../../src/worker/hot-wire.js";

/** What `postMessage` does to a message and its transfer list. */
function post<T>(encode: (transfer: Transferable[]) => T): T {
  const transfer: Transferable[] = [];
  const wire = encode(transfer);
  return structuredClone(wire, { transfer: transfer as Transferable[] as never });
}

const buffer = (bytes: number[]) => new Uint8Array(bytes).buffer;

/** Every kind of value a result cell can hold, including the awkward ones. */
const resultValue: fc.Arbitrary<ResultValue> = fc.oneof(
  fc.constant(null),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 2),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.string({ unit: "binary" }),
  fc.constantFrom("", "\u0000", "\ud800", "naïve ☃ 😀"),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => bytes.slice().buffer),
);

const rowsOf = (width: number, maxRows: number) =>
  fc.array(fc.array(resultValue, { minLength: width, maxLength: width }), { maxLength: maxRows });

describe("hot call payloads across postMessage", () => {
  it("keeps every row value exactly, in plain and block form", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((width) => rowsOf(width, 60)),
        (rows) => {
          const copy = rows.map((row) => row.map((v) => (v instanceof ArrayBuffer ? v.slice(0) : v)));
          expect(receivedArrays(decodeRows(post((transfer) => encodeRows(rows, transfer))))).toEqual(copy);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("moves result blobs and the block's typed arrays instead of copying them", () => {
    const blob = buffer([1, 2, 3]);
    const rows: ResultValue[][] = Array.from({ length: 40 }, (_, i) => [i, `row ${i}`, i === 7 ? blob : null]);
    const transfer: Transferable[] = [];
    const wire = encodeRows(rows, transfer);
    expect(Array.isArray(wire)).toBe(false);
    expect(transfer).toContain(blob);
    const decoded = receivedArrays(decodeRows(structuredClone(wire, { transfer: transfer as never })));
    expect(blob.byteLength).toBe(0);
    expect(new Uint8Array(decoded[7]?.[2] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(decoded[39]).toEqual([39, "row 39", null]);
  });

  it("keeps statements, with or without arguments, named arguments and wantRows", () => {
    const stmts: Stmt[] = [
      { sql: "SELECT 1" },
      { sql: "SELECT ?", args: [1n] },
      { sql: "SELECT :a", namedArgs: { a: "x" } },
      { sql: "BEGIN", wantRows: false },
      { sql: "SELECT ?", args: [], namedArgs: {}, wantRows: true },
    ];
    for (const stmt of stmts) {
      expect(decodeStmt(structuredClone(encodeStmt(stmt)))).toEqual(stmt);
    }
  });

  it("keeps batch steps, however many, with their arguments and conditions", () => {
    const arg: fc.Arbitrary<ArgValue> = fc.oneof(
      fc.constant(null),
      fc.double(),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
      fc.string(),
      fc.uint8Array({ maxLength: 8 }),
    );
    const step = (index: number): fc.Arbitrary<BatchStep> =>
      fc.record(
        {
          stmt: fc.record(
            {
              sql: fc.constantFrom("INSERT INTO t VALUES (?, ?)", "SELECT ?", "UPDATE t SET a = :a"),
              args: fc.array(arg, { maxLength: 4 }),
              namedArgs: fc.dictionary(fc.constantFrom("a", ":b", "$c"), arg, { maxKeys: 2 }),
              wantRows: fc.boolean(),
            },
            { requiredKeys: ["sql"] },
          ),
          condition: fc.constantFrom(
            {
              type: "and" as const,
              conds: [
                { type: "ok" as const, step: index - 1 },
                { type: "not" as const, cond: { type: "is_autocommit" as const } },
              ],
            },
            { type: "not" as const, cond: { type: "is_autocommit" as const } },
            { type: "or" as const, conds: [{ type: "error" as const, step: 0 }, { type: "is_autocommit" as const }] },
          ),
        },
        { requiredKeys: ["stmt"] },
      );
    const steps = fc
      .integer({ min: 0, max: 80 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => step(i))));
    fc.assert(
      fc.property(steps, (list) => {
        expect(decodeSteps(post((transfer) => encodeSteps(list, transfer)))).toEqual(list);
      }),
      { numRuns: 100 },
    );
  });

  it("leaves the caller's argument buffers alone", () => {
    const bytes = new Uint8Array([9, 8, 7]);
    const steps: BatchStep[] = Array.from({ length: 40 }, (_, i) => ({
      stmt: { sql: "SELECT ?, ?", args: [i, bytes] },
    }));
    const decoded = decodeSteps(post((transfer) => encodeSteps(steps, transfer)));
    expect(bytes).toEqual(new Uint8Array([9, 8, 7]));
    expect(decoded[39]?.stmt.args).toEqual([39, new Uint8Array([9, 8, 7])]);
  });

  it("keeps batch results: skipped steps, writes, rows and errors", () => {
    for (const n of [3, 50]) {
      const result: BatchResult = { stepResults: [], stepErrors: [] };
      for (let i = 0; i < n; i++) {
        const kind = i % 4;
        result.stepErrors.push(kind === 3 ? { message: "no such table: x", code: "SQLITE_ERROR", rawCode: 1 } : null);
        result.stepResults.push(
          kind === 0
            ? null
            : kind === 1
              ? { columns: [], columnTypes: [], rows: [], rowsAffected: i, lastInsertRowid: BigInt(i) * 2n ** 40n }
              : kind === 2
                ? {
                    columns: ["a"],
                    columnTypes: ["INTEGER"],
                    rows: [[i], [null]],
                    rowsAffected: 0,
                    lastInsertRowid: undefined,
                  }
                : null,
        );
      }
      expect(decodeBatchResult(post((transfer) => encodeBatchResult(result, transfer)))).toEqual(result);
    }
  });

  it("keeps statement results and cursor chunks", () => {
    const result = {
      columns: ["id", "name"],
      columnTypes: ["INTEGER", "TEXT"],
      rows: Array.from({ length: 100 }, (_, i) => [i, `n${i}`]),
      rowsAffected: 0,
      lastInsertRowid: undefined,
    };
    const decoded = decodeStmtResult(post((transfer) => encodeStmtResult(result, transfer)));
    // 200 values: packed, so they come back flat.
    expect(decoded.rows).toEqual({ width: 2, count: 100, values: result.rows.flat() });
    expect({ ...decoded, rows: receivedArrays(decoded.rows) }).toEqual(result);
    const chunk: CursorChunk = {
      entries: [
        { type: "step_begin", step: 0, columns: ["id"], columnTypes: [""] },
        { type: "rows", rows: Array.from({ length: 100 }, (_, i) => [i]) },
        { type: "step_end", rowsAffected: 0, lastInsertRowid: undefined },
        { type: "step_error", step: 1, error: { message: "boom", code: "SQLITE_ERROR" } },
      ],
      done: true,
    };
    const entries = decodeCursorChunk(post((transfer) => encodeCursorChunk(chunk, transfer))).entries.map((entry) =>
      entry.type === "rows" ? { ...entry, rows: receivedArrays(entry.rows) } : entry,
    );
    expect(entries).toEqual(chunk.entries);
  });
  it("carries runMany's argument lists whole, text as UTF-8 that binds as SQLite would encode it", () => {
    const argValue = fc.oneof(
      fc.constant(null),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -(2n ** 33n), max: 2n ** 33n }),
      fc.constantFrom(2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, -(2n ** 31n) - 1n, 0n),
      fc.string({ unit: "binary" }),
      fc.constantFrom("", "\u0000", "naïve ☃ 😀", "lone \ud800"),
      fc.uint8Array({ maxLength: 20 }),
    );
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((width) =>
            fc.array(fc.array(argValue, { minLength: width, maxLength: width }), { minLength: 70, maxLength: 120 }),
          ),
        (lists) => {
          const packed = decodeArgsList(post((transfer) => encodeArgsList(lists, transfer)));
          expect(Array.isArray(packed)).toBe(false);
          const args = packed as PackedArgs;
          expect([args.count, args.width]).toEqual([lists.length, lists[0]?.length]);
          for (const list of lists) {
            for (const value of list) {
              const start = args.nextText();
              if (typeof value === "string") {
                expect(start).toBeGreaterThanOrEqual(0);
                expect(args.text?.slice(start, args.textEnd)).toEqual(utf8.encode(value));
                continue;
              }
              expect(start).toBe(-1);
              const int = args.nextInt32();
              if (typeof value === "bigint" && value >= -(2n ** 31n) && value < 2n ** 31n) {
                expect(int).toBe(Number(value));
              } else {
                expect(int).toBeNaN();
                expect(args.next()).toEqual(value);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
