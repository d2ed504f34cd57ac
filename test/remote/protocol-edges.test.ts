import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { createClient } from "../../src/node.js";
import { expectLibsqlError } from "../support/expect-error.js";
import { httpClient, withServer } from "./helpers.js";

async function count(server: { db: { prepare(sql: string): { get(): unknown } } }): Promise<number> {
  return (server.db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("Hrana over HTTP: protocol edge cases", () => {
  it("reports an expired baton as STREAM_EXPIRED, and the transaction's work is gone", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE t(x)");
        const tx = await client.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        server.faults.expireAllStreams();
        await expectLibsqlError(tx.execute("INSERT INTO t VALUES (2)"), "STREAM_EXPIRED");
        // The stream is dead: later calls fail with the same code, and rollback has nothing left to do.
        await expectLibsqlError(tx.execute("SELECT 1"), "STREAM_EXPIRED");
        await expectLibsqlError(tx.commit(), "STREAM_EXPIRED");
        expect(tx.closed).toBe(true);
        expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
      } finally {
        client.close();
      }
    }));

  it("fails a transaction cut by a server restart, and carries on with fresh streams", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE t(x)");
        const tx = await client.transaction("write");
        await tx.execute("INSERT INTO t VALUES (1)");
        await server.restart();
        const error = await expectLibsqlError(tx.execute("INSERT INTO t VALUES (2)"), "SERVER_ERROR");
        expect(error.message).toMatch(/400.*baton/);
        await tx.rollback();
        expect(tx.closed).toBe(true);
        expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
        await client.execute("INSERT INTO t VALUES (3)");
        expect(await count(server)).toBe(1);
      } finally {
        client.close();
      }
    }));

  it("repeats a read after a 500 and succeeds", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("SELECT 1");
        server.requests.clear();
        server.faults.failNext(2, { path: "/v3/pipeline" });
        const rs = await client.execute("SELECT 42 AS answer");
        expect(rs.rows[0]!.answer).toBe(42);
        expect(server.requests.count("/v3/pipeline")).toBe(3);
        // A read-only batch is safe to repeat too.
        server.faults.failNext(1, { path: "/v3/pipeline" });
        const [one] = await client.batch(["SELECT 1 AS one"], "read");
        expect(one!.rows[0]!.one).toBe(1);
      } finally {
        client.close();
      }
    }));

  it("does not repeat a write after a 500: SERVER_ERROR, and it did not run twice", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE t(x)");
        server.requests.clear();
        server.faults.failNext(1, { path: "/v3/pipeline" });
        const error = await expectLibsqlError(client.execute("INSERT INTO t VALUES (1)"), "SERVER_ERROR");
        expect(error.message).toMatch(/HTTP status 500/);
        expect(server.requests.count("/v3/pipeline")).toBe(1);
        server.faults.failNext(1, { path: "/v3/pipeline" });
        await expectLibsqlError(client.batch(["INSERT INTO t VALUES (1)"], "write"), "SERVER_ERROR");
        expect(server.requests.count("/v3/pipeline")).toBe(2);
        expect(await count(server)).toBe(0);
      } finally {
        client.close();
      }
    }));

  it("does not repeat a write whose response was lost, but does repeat a read", () =>
    withServer({}, async (server) => {
      let loseNext = 0;
      let sent = 0;
      // The request reaches the server and runs; only its answer is lost on the way back.
      const losingFetch = async (request: Request) => {
        sent++;
        const response = await fetch(request);
        if (loseNext > 0) {
          loseNext--;
          await response.arrayBuffer();
          throw new TypeError("fetch failed", { cause: new Error("other side closed") });
        }
        return response;
      };
      const client = createClient({ url: server.url, fetch: losingFetch });
      try {
        await client.execute("CREATE TABLE t(x)");
        sent = 0;
        loseNext = 1;
        const error = await expectLibsqlError(client.execute("INSERT INTO t VALUES (1)"), "NETWORK_ERROR");
        expect(error.message).toMatch(/may or may not have been processed/);
        expect(sent).toBe(1);
        expect(await count(server)).toBe(1);
        sent = 0;
        loseNext = 1;
        expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
        expect(sent).toBe(2);
      } finally {
        client.close();
      }
    }));

  it("repeats any request that never reached the server, then reports NETWORK_ERROR", async () => {
    const port = await deadPort();
    let attempts = 0;
    const client = httpClient(
      {
        url: `http://127.0.0.1:${port}`,
        fetch: (request: Request) => {
          attempts++;
          return fetch(request);
        },
      },
      { retry: { baseDelayMs: 1 } },
    );
    try {
      const error = await expectLibsqlError(client.execute("INSERT INTO t VALUES (1)"), "NETWORK_ERROR");
      expect(error.message).toMatch(/Could not reach the server/);
      // The version probe: the first attempt and three repeats.
      expect(attempts).toBe(4);
    } finally {
      client.close();
    }
  });

  it("refuses a wrong token with a 401 once, never showing the token", () =>
    withServer({ authToken: "the-right-token-0123" }, async (server) => {
      const token = "a-wrong-token-4567";
      const client = createClient({ url: server.url, authToken: token });
      try {
        const error = await expectLibsqlError(client.execute("SELECT 1"), "SERVER_ERROR");
        expect(error.message).toMatch(/HTTP status 401/);
        expect(error.message).toMatch(/Unauthorized/);
        expect(error.message).not.toContain(token);
        expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(token);
        expect(server.requests.count("/v3/pipeline")).toBe(1);
      } finally {
        client.close();
      }
      const good = createClient({ url: `${server.url}?authToken=the-right-token-0123` });
      try {
        expect((await good.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      } finally {
        good.close();
      }
    }));

  it("keeps the token out of messages even when the server echoes it", async () => {
    const token = "secret-token-echoed-89";
    const echoing = async (request: Request) => {
      if (request.method === "GET") return new Response("ok", { status: 200 });
      const header = request.headers.get("authorization") ?? "";
      return new Response(JSON.stringify({ error: `bad header: ${header}` }), {
        status: 403,
        headers: { "content-type": "application/json" },
      });
    };
    const client = createClient({ url: "https://db.example.invalid", authToken: token, fetch: echoing });
    try {
      const error = await expectLibsqlError(client.execute("SELECT 1"), "SERVER_ERROR");
      expect(error.message).toMatch(/403/);
      expect(error.message).toContain("<redacted>");
      expect(error.message).not.toContain(token);
    } finally {
      client.close();
    }
  });

  it("fails a cursor cut mid-stream with NETWORK_ERROR, and the client carries on", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        await client.execute("CREATE TABLE t(i)");
        await client.execute(
          "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) INSERT INTO t SELECT i FROM s",
        );
        server.faults.cutNextCursor(500);
        const seen: number[] = [];
        const error = await (async () => {
          for await (const row of await client.cursor("SELECT i FROM t ORDER BY i", { chunkSize: 100 })) {
            seen.push(row.i as number);
          }
        })().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LibsqlError);
        expect((error as LibsqlError).code).toBe("NETWORK_ERROR");
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.length).toBeLessThan(3000);
        expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
        expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(3000);
      } finally {
        client.close();
      }
    }));

  it("times out a slow server with REQUEST_TIMEOUT, and works again once it is fast", () =>
    withServer({}, async (server) => {
      const client = httpClient({ url: server.url }, { timeoutMs: 300 });
      try {
        await client.execute("SELECT 1");
        server.faults.delay(2000, { path: "/v3/pipeline", count: 1 });
        const started = Date.now();
        const error = await expectLibsqlError(client.execute("SELECT 1"), "REQUEST_TIMEOUT");
        const elapsed = Date.now() - started;
        expect(error.message).toMatch(/300 ms/);
        expect(elapsed).toBeGreaterThanOrEqual(290);
        expect(elapsed).toBeLessThan(1500);
        expect((await client.execute("SELECT 2 AS two")).rows[0]!.two).toBe(2);
      } finally {
        client.close();
      }
    }));

  it("times out a cursor whose response stalls between entries", () =>
    withServer({}, async (server) => {
      // The server's real answer, held back after its first two lines (the baton and step_begin).
      const stalling = async (request: Request) => {
        const response = await fetch(request);
        if (!request.url.endsWith("/v3/cursor")) return response;
        const lines = (await response.text()).split("\n");
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`${lines[0]}\n${lines[1]}\n`));
          },
        });
        return new Response(body, { status: response.status, headers: response.headers });
      };
      const client = httpClient({ url: server.url, fetch: stalling }, { timeoutMs: 300 });
      try {
        const cursor = await client.cursor("SELECT 1 AS one UNION ALL SELECT 2");
        const started = Date.now();
        await expectLibsqlError(cursor.next(), "REQUEST_TIMEOUT");
        expect(Date.now() - started).toBeLessThan(1500);
        await cursor.close();
        expect((await client.execute("SELECT 3 AS three")).rows[0]!.three).toBe(3);
      } finally {
        client.close();
      }
    }));

  it("aborts calls in flight when the client's signal aborts", () =>
    withServer({}, async (server) => {
      const controller = new AbortController();
      const client = httpClient({ url: server.url }, { signal: controller.signal });
      try {
        await client.execute("SELECT 1");
        server.faults.delay(2000, { path: "/v3/pipeline", count: 1 });
        const pending = client.execute("SELECT 1");
        setTimeout(() => controller.abort(new Error("the page was left")), 50);
        const error = await expectLibsqlError(pending, "REQUEST_ABORTED");
        expect(String((error.cause as Error).message)).toMatch(/page was left/);
        await expectLibsqlError(client.execute("SELECT 1"), "REQUEST_ABORTED");
      } finally {
        client.close();
      }
    }));

  it("keeps at most `concurrency` requests in flight", async () => {
    let inFlight = 0;
    let most = 0;
    await withServer(
      {
        onRequest: () => {
          inFlight++;
          most = Math.max(most, inFlight);
        },
        onResponse: () => {
          inFlight--;
        },
      },
      async (server) => {
        const client = createClient({ url: server.url, concurrency: 2 });
        try {
          await client.execute("SELECT 1");
          most = 0;
          server.faults.delay(30, { path: "/v3/pipeline" });
          const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.execute(`SELECT ${i} AS i`)));
          expect(results.map((r) => r.rows[0]!.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
          expect(most).toBe(2);
        } finally {
          client.close();
        }
      },
    );
  });

  it("follows a stream's base_url for its later requests", () =>
    withServer({}, async (server) => {
      const moved = server.url.replace("127.0.0.1", "localhost");
      const urls: string[] = [];
      // The server names another address for the stream in its first answer (sqld's self_url).
      const relocating = async (request: Request) => {
        urls.push(request.url);
        const response = await fetch(request);
        if (!request.url.endsWith("/v3/pipeline")) return response;
        const body = await response.json();
        if (body.baton !== null) body.base_url = moved;
        return Response.json(body, { status: response.status });
      };
      const client = createClient({ url: server.url, fetch: relocating });
      try {
        await client.transaction("write", async (tx) => {
          await tx.execute("SELECT 1");
          await tx.execute("SELECT 2");
        });
        expect(urls).toEqual([
          `${server.url}/v3`,
          `${server.url}/v3/pipeline`,
          `${moved}/v3/pipeline`,
          `${moved}/v3/pipeline`,
        ]);
      } finally {
        client.close();
      }
    }));
});
