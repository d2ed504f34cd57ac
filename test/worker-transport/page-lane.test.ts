import { afterEach, describe, expect, it } from "vitest";
import { ANSWER_KIND, ANSWER_SEQ, PARKED, PageLane, STATE } from "../../src/worker/shared-lane.js";

const realWaitAsync = (Atomics as unknown as { waitAsync: unknown }).waitAsync;
afterEach(() => {
  (Atomics as unknown as { waitAsync: unknown }).waitAsync = realWaitAsync;
});

describe("page side of the shared lane", () => {
  it("never hands an answer over inside send(), even one that is there before the page waits", async () => {
    const lane = new PageLane();
    const slots = new Int32Array(lane.buffer, 0, 16);
    const data = new DataView(lane.buffer, 64);
    // The worker at its fastest: the answer (the number 7: INT32 tag, value) is written before the page
    // starts waiting, which a worker on another core can do. The page must still take it later.
    (Atomics as unknown as { waitAsync: unknown }).waitAsync = (array: Int32Array, index: number, value: number) => {
      data.setUint8(0, 4);
      data.setInt32(1, 7, true);
      Atomics.store(slots, ANSWER_KIND, 0);
      Atomics.store(slots, STATE, PARKED);
      Atomics.add(slots, ANSWER_SEQ, 1);
      return (realWaitAsync as (...args: unknown[]) => unknown)(array, index, value);
    };
    Atomics.store(slots, STATE, PARKED);
    let insideSend = false;
    let answeredInside = 0;
    const values: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        insideSend = true;
        const sent = lane.send(["call", i], (_kind, value) => {
          if (insideSend) answeredInside++;
          values.push(value);
          resolve();
        });
        insideSend = false;
        expect(sent).toBe(true);
      });
    }
    lane.close();
    expect(answeredInside).toBe(0);
    expect(values).toEqual(new Array(20).fill(7));
  });
});
