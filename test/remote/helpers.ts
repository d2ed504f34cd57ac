import type { Client, Config } from "../../src/api.js";
import { LibsqlClient } from "../../src/client.js";
import { expandConfig } from "../../src/config.js";
import { type HttpTransportOptions, openHttpTransport } from "../../src/remote/http-transport.js";
import { type HranaTestServer, startTestServer, type TestServerOptions } from "../server/hrana-server.js";

/**
 * A client over HTTP with transport options that `Config` does not carry yet
 * (timeout, signal, retry policy), built as `createClient` builds one.
 */
export function httpClient(config: Config, options: HttpTransportOptions = {}): Client {
  const expanded = expandConfig(config);
  return new LibsqlClient(() => openHttpTransport(expanded, options), "http", expanded.intMode);
}

/** Starts a test server, runs `fn`, and always closes the server. */
export async function withServer<T>(
  options: TestServerOptions,
  fn: (server: HranaTestServer) => Promise<T>,
): Promise<T> {
  const server = await startTestServer(options);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** A fetch that records each request's method, path and body before sending it on. */
export function recordingFetch(log: Array<{ method: string; path: string; body: string }>) {
  return async (request: Request): Promise<Response> => {
    const body = request.method === "POST" ? await request.clone().text() : "";
    log.push({ method: request.method, path: new URL(request.url).pathname, body });
    return fetch(request);
  };
}

/** Waits until `condition` holds (polling), or fails after `ms`. */
export async function eventually(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
