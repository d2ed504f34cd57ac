import { describe } from "vitest";
import type { Config } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import { behaviourSuite } from "../behaviour/behaviour-suite.js";
import type { ClientFactory } from "../support/client-factory.js";

const inProcessMemory: ClientFactory = {
  name: "in-process engine, memory",
  caps: { extendedCodes: true, localEngine: true, sharedConnection: true },
  create: async (config?: Partial<Config>) => createClient({ url: ":memory:", ...config }),
};

describe.each([inProcessMemory])("$name", (factory) => {
  behaviourSuite(factory);
});
