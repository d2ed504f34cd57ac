import { describe, test } from "vitest";
import { runCrashTrials } from "./crash-rig.js";
import { withRig } from "./helpers.js";

const KILLS = 20;

describe("a replica process killed while applying frames", () => {
  test(`recovers to a whole transaction and resumes, over ${KILLS} random kills`, { timeout: 600_000 }, async () => {
    await withRig({ authToken: "crash-token" }, async (rig) => {
      const outcomes = await runCrashTrials(rig, { token: "crash-token", kills: KILLS, maxTrials: 45 });
      console.info(`crash trials: ${outcomes.join(", ")}`);
    });
  });
});
