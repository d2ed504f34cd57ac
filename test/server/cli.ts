/**
 * Runs the loopback Hrana test server by hand:
 *
 *   npm run server -- --port 8080 --db ./dev.db [--auth TOKEN] [--idle-ms 10000] [--quiet]
 *
 * Listens on 127.0.0.1 only. Logs one line per request (method, path, status); the auth
 * token is never printed. npm echoes command-line arguments, so to keep the token out of
 * the terminal too, pass it as `HRANA_AUTH_TOKEN` in the environment instead of `--auth`.
 */
import { parseArgs } from "node:util";
import { startTestServer } from "./hrana-server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    db: { type: "string" },
    auth: { type: "string" },
    "idle-ms": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer between 0 and 65535, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}

const authToken = values.auth ?? process.env.HRANA_AUTH_TOKEN;
const server = await startTestServer({
  port,
  dbPath: values.db,
  authToken,
  streamIdleMs: values["idle-ms"] === undefined ? undefined : Number(values["idle-ms"]),
  onResponse: values.quiet
    ? undefined
    : ({ method, path, status, ms }) => console.log(`${method} ${path} ${status ?? "(no response)"} ${ms} ms`),
});
console.log(
  `Hrana test server on ${server.url} (database ${server.dbPath}${authToken === undefined ? "" : ", bearer token required"})`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
