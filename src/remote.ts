/**
 * The remote-only entry of libsql-web (`libsql-web/remote`): Hrana over HTTP to
 * Turso or sqld, with no wasm engine, no Worker and no OPFS code, for edge
 * runtimes (Cloudflare Workers, Deno Deploy, Vercel Edge) and pages that only
 * talk to a server. Needs only `fetch`, `TextDecoder` and `ReadableStream`.
 *
 * @example
 * import { createClient } from "libsql-web/remote";
 * const client = createClient({ url: "libsql://my-db.turso.io", authToken });
 * const rs = await client.execute("SELECT 1");
 */
import type { Client, Config } from "./api.js";
import { createClientIn, type Environment } from "./create-client.js";
import { openHttpTransport } from "./remote/http-transport.js";

export * from "./exports.js";

const remote: Environment = {
  name: "the remote entry",
  localKinds: [],
  remote: openHttpTransport,
};

/** Creates a client for a remote database (`libsql:`, `https:`, `http:` URLs). */
export function createClient(config: Config | string): Client {
  return createClientIn(remote, config);
}
