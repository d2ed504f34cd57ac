import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe } from "vitest";
import type { Config } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import { behaviourSuite } from "../behaviour/behaviour-suite.js";
import type { ClientFactory } from "../support/client-factory.js";

const dir = mkdtempSync(join(tmpdir(), "libsql-web-behaviour-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const caps = { extendedCodes: true, localEngine: true, sharedConnection: true };

const inProcessMemory: ClientFactory = {
  name: "in-process engine, memory",
  caps,
  create: async (config?: Partial<Config>) => createClient({ url: ":memory:", ...config }),
};

const inProcessFile: ClientFactory = {
  name: "in-process engine, file",
  caps,
  create: async (config?: Partial<Config>) => createClient({ url: `file:${join(dir, `db-${++files}.db`)}`, ...config }),
};

describe.each([inProcessMemory, inProcessFile])("$name", (factory) => {
  behaviourSuite(factory);
});
