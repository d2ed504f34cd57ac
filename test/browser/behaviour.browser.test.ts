/**
 * The shared behavioural suite, run inside Chromium (Vitest browser mode)
 * through the browser entry's `createClient`: the engine in a module worker
 * over comlink. Memory and opfs-sahpool clients use the page's shared worker
 * (the default); the opfs clients share a worker passed as `worker` (each
 * client then talks over a port of its own). The page is cross-origin
 * isolated, as the `opfs` storage needs.
 */
import { afterAll, describe } from "vitest";
import type { Config } from "../../src/api.js";
import { createClient } from "../../src/browser.js";
import { behaviourSuite } from "../behaviour/behaviour-suite.js";
import type { ClientFactory } from "../support/client-factory.js";

const caps = { extendedCodes: true, localEngine: true, sharedConnection: true };
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
let databases = 0;
const workers: Worker[] = [];
afterAll(() => {
  for (const worker of workers) worker.terminate();
});

function sharedWorker(): () => Worker {
  let worker: Worker | undefined;
  return () => {
    if (!worker) {
      worker = new Worker(new URL("../../worker/main.js", import.meta.url), { type: "module" });
      workers.push(worker);
    }
    return worker;
  };
}

function factory(
  name: string,
  config: () => Partial<Config> & { url: string },
  extraCaps: Partial<ClientFactory["caps"]> = {},
): ClientFactory {
  return {
    name,
    caps: { ...caps, ...extraCaps },
    create: async (extra?: Partial<Config>) => createClient({ ...config(), ...extra }),
  };
}

const opfsWorker = sharedWorker();

describe.each([
  factory("worker, memory", () => ({ url: ":memory:" })),
  factory("worker, opfs-sahpool", () => ({ url: `opfs:behaviour/${run}-${++databases}.db` })),
  factory("worker, opfs", () => ({
    url: `opfs:behaviour/${run}-${++databases}.db`,
    storage: "opfs",
    worker: opfsWorker(),
  })),
])("$name", (factory) => {
  behaviourSuite(factory);
});
