/**
 * The ecosystem suites over Hrana/HTTP: libsql-web's HTTP transport against
 * the loopback test server (native libSQL behind Hrana 3). Each client gets a
 * server of its own, so a fresh database; two clients of one database are two
 * server streams.
 */
import { afterEach, describe } from "vitest";
import type { Client, Config } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import { startTestServer } from "../server/hrana-server.js";
import type { ClientFactory } from "../support/client-factory.js";
import { drizzleSuite } from "./drizzle-suite.js";
import { kyselySuite } from "./kysely-suite.js";
import { migrationsSuite } from "./migrations-suite.js";
import { typesSuite } from "./types-suite.js";
import { vectorSuite } from "./vector-suite.js";

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function server() {
  const started = await startTestServer();
  servers.push(started);
  return started;
}

const http: ClientFactory = {
  name: "HTTP, loopback test server",
  caps: { extendedCodes: false, localEngine: false, sharedConnection: false },
  create: async (config?: Partial<Config>) => createClient({ ...config, url: (await server()).url }),
};

/** Two clients of one server's database: two streams on it. */
async function twoClientsOfOneServer(): Promise<[Client, Client]> {
  const { url } = await server();
  return [createClient({ url }), createClient({ url })];
}

describe(http.name, () => {
  drizzleSuite(http);
  kyselySuite(http);
  migrationsSuite(http, { sameDatabase: twoClientsOfOneServer });
  // Fewer property runs: each is several HTTP round trips, and the encoding they check does not vary with the run.
  typesSuite(http, { numRuns: 30, signedZero: false });
  vectorSuite(http);
});
