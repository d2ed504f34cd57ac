import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ANSWER_KIND, ANSWER_SEQ, PARKED, PageLane, REQUEST, STATE } from "../../src/worker/shared-lane.js";

/**
 * A stand-in for the engine's worker that spins on the lane and answers
 * every request at once with the number 7 (the codec's INT32 tag, then the
 * value): answers ready before the page could start waiting for them.
 */
const SPINNING_WORKER = `
const { workerData } = require("node:worker_threads");
const slots = new Int32Array(workerData, 0, 16);
const data = new DataView(workerData, 64);
Atomics.store(slots, ${STATE}, ${PARKED});
for (;;) {
  while (Atomics.load(slots, ${STATE}) !== ${REQUEST}) {}
  data.setUint8(0, 4);
  data.setInt32(1, 7, true);
  Atomics.store(slots, ${ANSWER_KIND}, 0);
  Atomics.store(slots, ${STATE}, ${PARKED});
  Atomics.add(slots, ${ANSWER_SEQ}, 1);
  Atomics.notify(slots, ${ANSWER_SEQ});
}
`;

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

describe("page side of the shared lane", () => {
  it("never hands an answer over inside send(), even one that is already there", async () => {
    const lane = new PageLane();
    worker = new Worker(SPINNING_WORKER, { eval: true, workerData: lane.buffer });
    const slots = new Int32Array(lane.buffer, 0, 16);
    while (Atomics.load(slots, STATE) !== PARKED) await new Promise((resolve) => setTimeout(resolve, 1));
    let insideSend = false;
    let answeredInside = 0;
    let readyAtReturn = 0;
    const values: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      const answered = new Promise<void>((resolve) => {
        insideSend = true;
        const seq = Atomics.load(slots, ANSWER_SEQ);
        const sent = lane.send(["call", i], (_kind, value) => {
          if (insideSend) answeredInside++;
          values.push(value);
          resolve();
        });
        if (Atomics.load(slots, ANSWER_SEQ) !== seq) readyAtReturn++;
        insideSend = false;
        expect(sent).toBe(true);
      });
      await answered;
    }
    lane.close();
    expect(answeredInside).toBe(0);
    expect(values).toEqual(new Array(300).fill(7));
    // The case this guards: the worker answered before send() returned (the page could have read it at once).
    expect(readyAtReturn).toBeGreaterThan(0);
  });
});
