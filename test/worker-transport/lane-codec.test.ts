import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LaneCodec } from "../../src/worker/lane-codec.js";

const codec = (bytes = 1 << 16) => new LaneCodec(new SharedArrayBuffer(64 + bytes), 64, bytes);

/** Values hot calls carry: what the lane must give back as structured clone would. */
const plain = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.string({ unit: "binary" }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) }),
    fc.uint8Array().map((bytes) => bytes.buffer),
    fc.uint8Array(),
    fc.float64Array(),
    fc.int32Array(),
    fc.bigInt64Array(),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("lane codec", () => {
  it("gives back what structured clone would, value for value", () => {
    const lane = codec();
    fc.assert(
      fc.property(plain, (value) => {
        if (lane.write(value) < 0) return; // too large for this lane: goes by message
        expect(lane.read()).toStrictEqual(structuredClone(value));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps an own property named __proto__ as a property, not as the prototype", () => {
    const lane = codec();
    const value = JSON.parse('{"__proto__": {"x": 1}, "a": null}') as Record<string, unknown>;
    for (const sent of [value, { named: value }, [value]]) {
      expect(lane.write(sent)).toBeGreaterThan(0);
      expect(lane.read()).toStrictEqual(structuredClone(sent));
    }
    expect(lane.write(value)).toBeGreaterThan(0);
    const back = lane.read() as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toEqual({ x: 1 });
  });

  it("keeps -0, NaN, lone surrogates, NUL and integers at the edges of each form", () => {
    const lane = codec();
    const values = [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      2 ** 53 + 2,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 63n,
      -(2n ** 64n) - 1n,
      "a\ud800b\udc00\u0000z",
      "x".repeat(10_000),
    ];
    expect(lane.write(values)).toBeGreaterThan(0);
    const back = lane.read() as unknown[];
    expect(Object.is(back[0], -0)).toBe(true);
    expect(back).toStrictEqual(values);
  });

  it("copies buffers out of shared memory and a view's own bytes only", () => {
    const lane = codec();
    const whole = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lane.write([whole.subarray(2, 6), whole.buffer])).toBeGreaterThan(0);
    const [view, buffer] = lane.read() as [Uint8Array, ArrayBuffer];
    expect([...view]).toEqual([3, 4, 5, 6]);
    expect(view.buffer).toBeInstanceOf(ArrayBuffer);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buffer)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("refuses what it cannot carry, or what does not fit, so that it goes by message", () => {
    const lane = codec(1024);
    class Custom {}
    for (const value of [
      new Date(0),
      new Map(),
      new Custom(),
      () => 1,
      Symbol("s"),
      new Uint8Array(new SharedArrayBuffer(4)),
      new DataView(new ArrayBuffer(4)),
      new Uint8Array(2000),
      "x".repeat(600),
      [1, [2, new Set()]],
    ]) {
      expect(lane.write(value)).toBe(-1);
    }
    // After a refusal the lane still works.
    expect(lane.write(["ok", 1])).toBeGreaterThan(0);
    expect(lane.read()).toEqual(["ok", 1]);
  });

  it("refuses nesting too deep rather than overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(codec().write(deep)).toBe(-1);
  });
});
