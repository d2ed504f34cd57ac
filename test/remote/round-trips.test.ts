import { describe, expect, it } from "vitest";
import { createClient } from "../../src/node.js";
import type { HranaTestServer } from "../server/hrana-server.js";
import { eventually, recordingFetch, withServer } from "./helpers.js";

/** HTTP requests the server received while `body` ran (and any fire-and-forget close it sent). */
async function requestsDuring(server: HranaTestServer, body: () => Promise<void>): Promise<string[]> {
  server.requests.clear();
  await body();
  // A transaction's close without commit is sent without waiting: let it arrive.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return server.requests.entries.map((r) => `${r.method} ${r.path}`);
}

describe("Hrana over HTTP: round trips", () => {
  it("probes the version once, then costs one request per execute, batch and script", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        expect(await requestsDuring(server, async () => void (await client.execute("SELECT 1")))).toEqual([
          "GET /v3",
          "POST /v3/pipeline",
        ]);
        expect(
          await requestsDuring(server, async () => {
            await client.execute("CREATE TABLE t(x)");
            await client.execute({ sql: "INSERT INTO t VALUES (?)", args: [1] });
          }),
        ).toEqual(["POST /v3/pipeline", "POST /v3/pipeline"]);
        expect(
          await requestsDuring(server, async () => {
            await client.batch(["INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)", "SELECT * FROM t"], "write");
          }),
        ).toEqual(["POST /v3/pipeline"]);
        expect(
          await requestsDuring(server, () =>
            client.executeMultiple("INSERT INTO t VALUES (4); INSERT INTO t VALUES (5);"),
          ),
        ).toEqual(["POST /v3/pipeline"]);
        expect(await requestsDuring(server, async () => void (await client.prepare("SELECT x FROM t")))).toEqual([
          "POST /v3/pipeline",
        ]);
        expect(server.streamCount).toBe(0);
      } finally {
        client.close();
      }
    }));

  for (const ending of ["commit", "rollback", "close"] as const) {
    it(`costs at most N+1 requests for a transaction of N statements (${ending})`, () =>
      withServer({}, async (server) => {
        const client = createClient({ url: server.url });
        try {
          await client.execute("CREATE TABLE t(x)");
          for (const n of [1, 2, 5]) {
            const requests = await requestsDuring(server, async () => {
              const tx = await client.transaction("write");
              for (let i = 0; i < n; i++) await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
              if (ending === "commit") await tx.commit();
              else if (ending === "rollback") await tx.rollback();
              else tx.close();
            });
            expect(requests.length, `${n} statements, then ${ending}`).toBe(n + 1);
            await eventually(() => server.streamCount === 0);
          }
          expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(ending === "commit" ? 8 : 0);
        } finally {
          client.close();
        }
      }));
  }

  it("counts a transaction's batch as one statement", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE t(x)");
        const requests = await requestsDuring(server, async () => {
          await client.transaction("write", async (tx) => {
            await tx.batch(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"]);
            await tx.execute("INSERT INTO t VALUES (3)");
          });
        });
        expect(requests.length).toBe(3);
      } finally {
        client.close();
      }
    }));

  it("stores repeated SQL once per stream and refers to it by id", () =>
    withServer({}, async (server) => {
      const log: Array<{ method: string; path: string; body: string }> = [];
      const client = createClient({ url: server.url, fetch: recordingFetch(log) });
      try {
        await client.execute("CREATE TABLE measurements(sensor TEXT, reading REAL, taken_at INTEGER)");
        const insert = "INSERT INTO measurements(sensor, reading, taken_at) VALUES (?, ?, ?)";
        log.length = 0;
        await client.transaction("write", async (tx) => {
          for (let i = 0; i < 3; i++) await tx.execute({ sql: insert, args: ["a", i, i] });
        });
        const bodies = log.map((r) => JSON.parse(r.body));
        expect(bodies[0].requests.map((r: { type: string }) => r.type)).toEqual(["store_sql", "batch"]);
        expect(bodies[0].requests[0].sql).toBe(insert);
        for (const body of bodies.slice(1, 3)) {
          expect(body.requests.map((r: { type: string }) => r.type)).toEqual(["batch"]);
          expect(body.requests[0].batch.steps[0].stmt.sql_id).toBe(bodies[0].requests[0].sql_id);
          expect(body.requests[0].batch.steps[0].stmt.sql).toBeUndefined();
        }
        // Outside transactions, a batch stores only what it repeats.
        log.length = 0;
        await client.batch(
          [0, 1, 2].map((i) => ({ sql: insert, args: ["b", i, i] })),
          "write",
        );
        const [batchBody] = log.map((r) => JSON.parse(r.body));
        const types = batchBody.requests.map((r: { type: string }) => r.type);
        expect(types).toEqual(["store_sql", "batch", "close"]);
        expect((await client.execute("SELECT count(*) AS n FROM measurements")).rows[0]!.n).toBe(6);
      } finally {
        client.close();
      }
    }));

  it("runs a prepared statement in a transaction by its stored id, and frees it on close", () =>
    withServer({}, async (server) => {
      const log: Array<{ method: string; path: string; body: string }> = [];
      const client = createClient({ url: server.url, fetch: recordingFetch(log) });
      try {
        await client.execute("CREATE TABLE t(x)");
        log.length = 0;
        await client.transaction("write", async (tx) => {
          await tx.execute("INSERT INTO t VALUES (1), (2), (3)");
          const select = await tx.prepare("SELECT x FROM t WHERE x >= ?");
          const counts: number[] = [];
          for (let i = 1; i <= 3; i++) counts.push((await select.all([i])).length);
          expect(counts).toEqual([3, 2, 1]);
          await select.close();
          await tx.execute("SELECT 1");
        });
        const bodies = log.map((r) => JSON.parse(r.body));
        const types = bodies.map((b) => b.requests.map((q: { type: string }) => q.type).join(","));
        expect(types).toEqual([
          "batch", // BEGIN + INSERT
          "store_sql,describe",
          "execute",
          "execute",
          "execute",
          "close_sql,batch", // the close_sql waited for the next request
          "execute,close", // COMMIT
        ]);
        const id = bodies[1].requests[0].sql_id;
        for (const body of bodies.slice(2, 5)) {
          expect(body.requests[0].stmt.sql_id).toBe(id);
          expect(body.requests[0].stmt.sql).toBeUndefined();
        }
        expect(bodies[5].requests[0]).toEqual({ type: "close_sql", sql_id: id });
      } finally {
        client.close();
      }
    }));
});
