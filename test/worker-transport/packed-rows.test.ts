import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArgValue, CursorChunk, IntMode, ReceivedRows, ResultValue } from "../../src/proto.js";
import { receivedArrays } from "../../src/received-rows.js";
import {
  decodeCursorChunk,
  decodeRows,
  encodeCursorChunk,
  encodeRows,
  type RowsWire,
} from "../../src/worker/hot-wire.js";
import { Engine } from "../../worker/engine.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { packedRows } from "../../worker/row-format.js";

/** What `postMessage` does to a message and its transfer list. */
function post<T>(encode: (transfer: Transferable[]) => T): T {
  const transfer: Transferable[] = [];
  const wire = encode(transfer);
  return structuredClone(wire, { transfer: transfer as never });
}

const posted = (rows: RowsWire) => receivedArrays(decodeRows(post((transfer) => encodeRows(rows, transfer))));

const memory = { storage: "memory", path: "" } as const;
const INT_MODES: IntMode[] = ["number", "bigint", "string"];

/** A value to store: every type a column can hold, with awkward text and integers at the edges. */
const stored: fc.Arbitrary<ArgValue> = fc.oneof(
  fc.constant(null),
  fc.double({ noNaN: true }),
  fc.constantFrom(-0, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53) + 1),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(2n ** 53n, -(2n ** 63n), 2n ** 63n - 1n, 0n),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 80 }),
  fc.constantFrom("", "\u0000", "naïve ☃ 😀", "x".repeat(5000)),
  fc.uint8Array({ maxLength: 40 }),
);

/**
 * The engine in a browser worker packs rows for the page (`packedRows`): the
 * page must read back exactly what the array form gives, for every value,
 * integer mode and call that returns rows.
 */
describe("packed rows", () => {
  let plain: Engine;
  let packed: Engine<RowsWire>;
  let a: number;
  let b: number;

  beforeAll(async () => {
    plain = new Engine({ loadSqlite: () => loadNodeSqlite("optimized") });
    packed = new Engine<RowsWire>({ loadSqlite: () => loadNodeSqlite("optimized"), rows: packedRows });
    a = await plain.open(memory);
    b = await packed.open(memory);
  });

  afterAll(async () => {
    await plain.close(a);
    await packed.close(b);
  });

  /** Fills table `t` with `rows` on both engines, plus text that is not valid UTF-8. */
  async function fill(rows: ArgValue[][]): Promise<void> {
    for (const [engine, conn] of [
      [plain, a],
      [packed, b],
    ] as const) {
      await engine.execute(conn, { sql: "DROP TABLE IF EXISTS t" }, "number");
      await engine.execute(conn, { sql: "CREATE TABLE t(k INTEGER PRIMARY KEY, x, y)" }, "number");
      const { stmtId } = await engine.prepare(conn, "INSERT INTO t(x, y) VALUES (?, ?)");
      await engine.runMany(conn, stmtId, rows);
      await engine.execute(
        conn,
        { sql: "INSERT INTO t(x, y) VALUES (CAST(x'ff61e282' AS TEXT), CAST(x'e282ac80c0' AS TEXT))" },
        "number",
      );
      await engine.finalize(conn, stmtId);
    }
  }

  it("reads back every value as the array form does, through execute, query and batch", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(stored, stored), { maxLength: 120 }), async (rows) => {
        await fill(rows);
        for (const intMode of INT_MODES) {
          const stmt = { sql: "SELECT k, x, y, typeof(x) FROM t ORDER BY k" };
          const want = await plain.execute(a, stmt, intMode);
          const got = await packed.execute(b, stmt, intMode);
          expect(posted(got.rows)).toEqual(want.rows);
          expect(got.columns).toEqual(want.columns);

          const [p, q] = [await plain.prepare(a, stmt.sql), await packed.prepare(b, stmt.sql)];
          const first = await packed.query(b, q.stmtId, [], intMode, 1);
          expect(posted(first.rows)).toEqual((await plain.query(a, p.stmtId, [], intMode, 1)).rows);
          await plain.finalize(a, p.stmtId);
          await packed.finalize(b, q.stmtId);

          const steps = [{ stmt }, { stmt: { sql: "UPDATE t SET y = y WHERE k < 0" } }, { stmt }];
          const wantBatch = await plain.batch(a, steps, intMode);
          const gotBatch = await packed.batch(b, steps, intMode);
          expect(gotBatch.stepResults.map((r) => r && posted(r.rows))).toEqual(
            wantBatch.stepResults.map((r) => r?.rows ?? null),
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it("streams the same rows through a cursor, chunk by chunk", async () => {
    const rows: ArgValue[][] = Array.from({ length: 2500 }, (_, i) => [
      i % 3 === 0 ? `name-${i}` : i % 3 === 1 ? `€ ${i}` : BigInt(i) * 2n ** 40n,
      i % 5 === 0 ? new Uint8Array([i & 255, 1, 2]) : i * 1.5,
    ]);
    await fill(rows);
    const read = async (engine: Engine<ResultValue[][]> | Engine<RowsWire>, conn: number, unpack: boolean) => {
      const cursor = await engine.openCursor(conn, [{ stmt: { sql: "SELECT x, y FROM t ORDER BY k" } }], "bigint");
      const out: ResultValue[][] = [];
      for (;;) {
        const fetched = (await engine.fetchCursor(conn, cursor, 333)) as CursorChunk<RowsWire>;
        const chunk: CursorChunk<ReceivedRows> = unpack
          ? decodeCursorChunk(post((transfer) => encodeCursorChunk(fetched, transfer)))
          : (fetched as CursorChunk<ResultValue[][]>);
        for (const entry of chunk.entries) if (entry.type === "rows") out.push(...receivedArrays(entry.rows));
        if (chunk.done) return out;
      }
    };
    const got = await read(packed, b, true);
    expect(got).toHaveLength(2501);
    expect(got).toEqual(await read(plain, a, false));
  });

  it("moves the block's buffers and the blobs in it", async () => {
    await fill([[new Uint8Array([7, 8, 9]), "text"]]);
    const { rows } = await packed.execute(b, { sql: "SELECT x, y FROM t ORDER BY k LIMIT 1" }, "number");
    const transfer: Transferable[] = [];
    const wire = encodeRows(rows, transfer);
    const blob = transfer.find((t) => t instanceof ArrayBuffer && t.byteLength === 3);
    expect(blob).toBeDefined();
    const [[x, y]] = receivedArrays(decodeRows(structuredClone(wire, { transfer: transfer as never }))) as [
      [ArrayBuffer, string],
    ];
    expect((blob as ArrayBuffer).byteLength).toBe(0);
    expect(new Uint8Array(x)).toEqual(new Uint8Array([7, 8, 9]));
    expect(y).toBe("text");
  });
});
