import { describe } from "vitest";
import { behaviourSuite } from "../behaviour/behaviour-suite.js";
import { remoteFactory } from "./remote-factory.js";
import { startV2OnlyProxy } from "./v2-only-proxy.js";

describe.each([
  remoteFactory("Hrana 3 over HTTP, loopback test server"),
  remoteFactory("Hrana 2 over HTTP (a server without /v3)", { front: (server) => startV2OnlyProxy(server.url) }),
])("$name", (factory) => {
  behaviourSuite(factory);
});
