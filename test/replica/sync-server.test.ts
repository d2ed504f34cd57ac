import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { HranaTestServer } from "../server/hrana-server.js";
import { withRig } from "./helpers.js";

const TOKEN = "sync-server-token";
const auth = { authorization: `Bearer ${TOKEN}` };

async function get(server: HranaTestServer, path: string): Promise<{ status: number; bytes: Buffer; json: unknown }> {
  const response = await fetch(`${server.url}${path}`, { headers: auth });
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  if ((response.headers.get("content-type") ?? "").includes("json")) json = JSON.parse(bytes.toString("utf8"));
  return { status: response.status, bytes, json };
}

/** Frames in a /sync body: page number and commit size of each. */
function frameHeaders(bytes: Buffer): { page: number; commit: number }[] {
  expect(bytes.length % 4120).toBe(0);
  const out: { page: number; commit: number }[] = [];
  for (let at = 0; at < bytes.length; at += 4120)
    out.push({ page: bytes.readUInt32BE(at), commit: bytes.readUInt32BE(at + 4) });
  return out;
}

describe("the test server's HTTP sync protocol (docs/protocols.md §3.3-3.5, §3.10)", () => {
  test("/info, /export and /sync serve the database's real WAL frames", async () => {
    await withRig({ authToken: TOKEN }, async ({ server }) => {
      expect((await get(server, "/info")).json).toEqual({ current_generation: 1 });
      const exported = await get(server, "/export/1");
      expect(exported.status).toBe(200);
      expect(exported.bytes.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
      expect(exported.bytes.readUInt16BE(16)).toBe(4096);
      expect([exported.bytes[18], exported.bytes[19]]).toEqual([2, 2]);

      server.db.exec("CREATE TABLE t(x)");
      server.db.exec("INSERT INTO t VALUES (randomblob(10000))");
      const pulled = await get(server, "/sync/1/1/100");
      expect(pulled.status).toBe(200);
      const frames = frameHeaders(pulled.bytes);
      expect(frames.length).toBeGreaterThan(2);
      expect(frames.at(-1)?.commit).toBeGreaterThan(0);
      // Verbatim: the same bytes as the -wal file after its 32-byte header.
      const wal = readFileSync(`${server.dbPath}-wal`);
      expect(pulled.bytes.equals(wal.subarray(32, 32 + pulled.bytes.length))).toBe(true);

      const middle = await get(server, "/sync/1/2/3");
      expect(middle.bytes.equals(pulled.bytes.subarray(4120, 8240))).toBe(true);

      const end = await get(server, `/sync/1/${frames.length + 1}/${frames.length + 129}`);
      expect(end.status).toBe(400);
      expect(end.json).toEqual({
        status: "checkpoint_needed",
        generation: 1,
        max_frame_no: frames.length,
        baton: null,
      });
    });
  });

  test("a write's frames are on /sync as soon as its Hrana response arrives", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync }) => {
      server.db.exec("CREATE TABLE t(x)");
      const before = sync.history.frameCount || (await get(server, "/sync/1/1/1000")).bytes.length / 4120;
      const response = await fetch(`${server.url}/v3/pipeline`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          baton: null,
          requests: [{ type: "execute", stmt: { sql: "INSERT INTO t VALUES (1)" } }, { type: "close" }],
        }),
      });
      expect(response.status).toBe(200);
      await response.json();
      const after = await get(server, `/sync/1/${before + 1}/${before + 100}`);
      expect(after.status).toBe(200);
      expect(frameHeaders(after.bytes).at(-1)?.commit).toBeGreaterThan(0);
    });
  });

  test("a checkpoint starts a generation; earlier generations stay available", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync }) => {
      server.db.exec("CREATE TABLE t(x)");
      server.db.exec("INSERT INTO t VALUES (1)");
      const g1 = await get(server, "/sync/1/1/100");
      const checkpoint = await fetch(`${server.url}/admin/checkpoint`, { method: "POST", headers: auth });
      expect(await checkpoint.json()).toEqual({ generation: 2 });
      expect((await get(server, "/info")).json).toEqual({ current_generation: 2 });
      // The new generation starts from the checkpointed file.
      expect((await get(server, "/export/2")).bytes.equals(readFileSync(server.dbPath))).toBe(true);
      expect((await get(server, "/sync/2/1/100")).status).toBe(400);
      server.db.exec("INSERT INTO t VALUES (2)");
      expect(frameHeaders((await get(server, "/sync/2/1/100")).bytes).length).toBeGreaterThan(0);
      // Generation 1 still serves its frames, and its end says which generation is current.
      expect((await get(server, "/sync/1/1/100")).bytes.equals(g1.bytes)).toBe(true);
      const end = await get(server, `/sync/1/${g1.bytes.length / 4120 + 1}/1000`);
      expect(end.json).toMatchObject({ status: "checkpoint_needed", generation: 2 });
      expect((await get(server, "/export/1")).status).toBe(200);
      expect((await get(server, "/export/9")).status).toBe(404);
      expect(sync.history.generation).toBe(2);
    });
  });

  test("a checkpoint behind the history's back starts a generation without losing frames", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync }) => {
      server.db.exec("CREATE TABLE t(x)");
      server.db.exec("INSERT INTO t VALUES (1)");
      // The commit hook captured the frames; now SQLite checkpoints without the history knowing.
      sync.history.capture();
      server.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").raw(true).get();
      server.db.exec("INSERT INTO t VALUES (2)");
      expect((await get(server, "/info")).json).toEqual({ current_generation: 2 });
      expect(sync.history.unexpectedRestarts).toBe(1);
      expect(frameHeaders((await get(server, "/sync/2/1/100")).bytes).length).toBeGreaterThan(0);
      expect(frameHeaders((await get(server, "/sync/1/1/100")).bytes).length).toBeGreaterThan(0);
    });
  });

  test("sync endpoints need the token", async () => {
    await withRig({ authToken: TOKEN }, async ({ server }) => {
      for (const path of ["/info", "/export/1", "/sync/1/1/2"]) {
        expect((await fetch(`${server.url}${path}`)).status).toBe(401);
      }
    });
  });
});
