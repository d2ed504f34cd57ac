// A test server with the sync protocol in a process of its own (for the replica benchmark:
// a server sharing the client's event loop would slow both). Prints its URL as one JSON line.
// Extra routes: POST /bench/fill?mb=N (rows of ~3.9 KB in transactions of 1,000),
// POST /bench/small?n=N (N one-row transactions), GET /bench/frames, POST /admin/checkpoint.
// Usage: node --import tsx sync-server.ts <database path>

import { startTestServer } from "../../server/hrana-server.js";
import { sendJson } from "../../server/http-reply.js";
import { enableSync } from "../../server/sync-routes.js";

const server = await startTestServer({ dbPath: process.argv[2] });
const sync = enableSync(server);
server.db.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)");
const frames = () => {
  sync.history.capture();
  return { generation: sync.history.generation, frameCount: sync.history.frameCount };
};
server.route("POST", "/bench/fill", ({ res, url }) => {
  const rows = Math.round((Number(url.searchParams.get("mb")) * 1024 * 1024) / 4096);
  for (let i = 0; i < rows; i += 1000) {
    server.db.exec(`INSERT INTO t(v) SELECT randomblob(3900) FROM generate_series(1, ${Math.min(1000, rows - i)})`);
  }
  sendJson(res, 200, frames());
});
server.route("POST", "/bench/small", ({ res, url }) => {
  const n = Number(url.searchParams.get("n"));
  for (let i = 0; i < n; i++) server.db.exec(`INSERT INTO t(v) VALUES ('small transaction ${i}')`);
  sendJson(res, 200, frames());
});
server.route("GET", "/bench/frames", ({ res }) => sendJson(res, 200, frames()));
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
