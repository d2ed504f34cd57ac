/**
 * The shared behavioural suite, run inside Chromium (Vitest browser mode)
 * through the worker transport: the engine in a module worker over comlink.
 * Memory clients each start their own worker (the default); the opfs-sahpool
 * and opfs clients share one worker per storage, passed as `worker` (each
 * client then talks over a port of its own), which also keeps the suite fast.
 * The page is cross-origin isolated, as the `opfs` storage needs.
 */
import { afterAll, describe } from "vitest";
import type { Config } from "../../src/api.js";
import { createClientIn, type Environment } from "../../src/create-client.js";
import { openWorkerTransport } from "../../src/worker/open-worker-transport.js";
import { behaviourSuite } from "../behaviour/behaviour-suite.js";
import type { ClientFactory } from "../support/client-factory.js";

const browserWorker: Environment = {
  name: "the browser worker",
  localKinds: ["memory", "opfs"],
  local: (config) =>
    openWorkerTransport({
      storage: config.kind === "memory" ? "memory" : config.storage,
      path: config.path,
      worker: config.worker,
    }),
};

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

function factory(name: string, config: () => Partial<Config> & { url: string }): ClientFactory {
  return {
    name,
    caps,
    create: async (extra?: Partial<Config>) => createClientIn(browserWorker, { ...config(), ...extra }),
  };
}

const sahpoolWorker = sharedWorker();
const opfsWorker = sharedWorker();

describe.each([
  factory("worker, memory", () => ({ url: ":memory:" })),
  factory("worker, opfs-sahpool", () => ({
    url: `opfs:behaviour/${run}-${++databases}.db`,
    worker: sahpoolWorker(),
  })),
  factory("worker, opfs", () => ({
    url: `opfs:behaviour/${run}-${++databases}.db`,
    storage: "opfs",
    worker: opfsWorker(),
  })),
])("$name", (factory) => {
  behaviourSuite(factory);
});
