import { afterEach } from "vitest";
import type { Client, Config } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import { type HranaTestServer, startTestServer, type TestServerOptions } from "../server/hrana-server.js";
import type { ClientFactory } from "../support/client-factory.js";

/** Something in front of a test server (a proxy), with the URL clients use. */
export interface Front {
  url: string;
  close(): Promise<void>;
}

/**
 * Clients over Hrana/HTTP, each against a loopback test server of its own (so a
 * fresh empty database); servers close after each test. `front` puts something
 * between client and server (the Hrana 2 proxy).
 */
export function remoteFactory(
  name: string,
  options: { server?: TestServerOptions; front?: (server: HranaTestServer) => Promise<Front> } = {},
): ClientFactory {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanups.splice(0).reverse()) await close();
  });
  return {
    name,
    caps: { extendedCodes: false, localEngine: false, sharedConnection: false },
    async create(config?: Partial<Config>): Promise<Client> {
      const server = await startTestServer(options.server);
      cleanups.push(() => server.close());
      let url = server.url;
      if (options.front) {
        const front = await options.front(server);
        cleanups.push(() => front.close());
        url = front.url;
      }
      return createClient({ url, ...config });
    },
  };
}
