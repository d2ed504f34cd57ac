import type { ServerResponse } from "node:http";
import type { HranaTestServer, RouteContext } from "./hrana-server.js";
import { sendJson } from "./http-reply.js";
import { type SyncFault, SyncFaults, spoil } from "./sync-faults.js";
import { SyncHistory } from "./sync-history.js";
import { FRAME_SIZE } from "./sync-wal.js";

/** What `enableSync` adds to a test server. */
export interface SyncEndpoints {
  /** Generations and frames served. */
  readonly history: SyncHistory;
  /** Spoils upcoming `/sync` and `/export` responses. */
  readonly faults: SyncFaults;
  /** Ends the current generation (TRUNCATE checkpoint); returns the new generation number. */
  checkpoint(): number;
}

/**
 * Adds the HTTP sync protocol of embedded replicas to a test server (§3.3-3.5, §3.10):
 * `GET /info`, `GET /export/{g}`, `GET /sync/{g}/{start}/{end}`, and
 * `POST /admin/checkpoint` to start a new generation from another process. Frames are
 * the real WAL frames of the server's database (4096-byte pages, 4120-byte frames), read
 * from its `-wal` on each request, so a write's frames are there before its Hrana
 * response is sent; every generation's frames stay available.
 *
 * @example
 * const server = await startTestServer();
 * const sync = enableSync(server);
 * await fetch(`${server.url}/sync/1/1/129`); // the first frames, or 400 at end of data
 * sync.checkpoint(); // generation 2 starts
 */
export function enableSync(server: HranaTestServer): SyncEndpoints {
  const history = new SyncHistory(server.dbPath, () => server.db);
  const faults = new SyncFaults();
  // Capture after each write, so that frames survive a checkpoint SQLite does on its own.
  server.onCommit(() => history.capture());
  server.route("GET", "/info", ({ res }) => {
    history.capture();
    sendJson(res, 200, { current_generation: history.generation });
  });
  server.route("GET", "/export/{g}", ({ res, params }) => {
    const snapshot = history.snapshot(positive(params.g));
    if (!snapshot) {
      sendJson(res, 404, { error: `generation ${params.g} does not exist` });
      return;
    }
    sendBytes(res, snapshot, faults.take("export"), 0);
  });
  server.route("GET", "/sync/{g}/{start}/{end}", (ctx) => pull(ctx, history, faults));
  server.route("POST", "/admin/checkpoint", ({ res }) => sendJson(res, 200, { generation: history.checkpoint() }));
  return { history, faults, checkpoint: () => history.checkpoint() };
}

function pull({ res, params }: RouteContext, history: SyncHistory, faults: SyncFaults): void {
  const g = positive(params.g);
  const start = positive(params.start);
  const end = positive(params.end);
  const frames = history.frames(g, start, end);
  if (frames.length === 0) {
    // End of data, in the form both libsql and Turso's engine understand (§3.5).
    sendJson(res, 400, {
      status: "checkpoint_needed",
      generation: history.generation,
      max_frame_no: history.frameCount,
      baton: null,
    });
    return;
  }
  sendBytes(res, Buffer.concat(frames), faults.take("sync"), FRAME_SIZE);
}

function sendBytes(res: ServerResponse, body: Buffer, fault: SyncFault | undefined, frameSize: number): void {
  if (fault?.kind === "cut") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.write(body.subarray(0, fault.bytes), () => res.destroy());
    return;
  }
  const sent = fault ? spoil(body, fault, frameSize) : body;
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": sent.length });
  res.end(sent);
}

/** A path number; anything else answers 400 through the server's ProtocolError path. */
function positive(text: string | undefined): number {
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}
