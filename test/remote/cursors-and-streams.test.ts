import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import type { HranaTestServer } from "../server/hrana-server.js";
import { expectLibsqlError } from "../support/expect-error.js";
import { recordingFetch, withServer } from "./helpers.js";
import { startV2OnlyProxy } from "./v2-only-proxy.js";

const COUNT_TO = (n: number) =>
  `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s`;

/** Runs `body` with a client on Hrana 3 (the server itself) and on Hrana 2 (the proxy). */
function bothVersions(name: string, body: (client: Client, server: HranaTestServer, version: 2 | 3) => Promise<void>) {
  for (const version of [3, 2] as const) {
    it(`${name} (Hrana ${version})`, () =>
      withServer({}, async (server) => {
        const proxy = version === 2 ? await startV2OnlyProxy(server.url) : undefined;
        const client = createClient({ url: proxy?.url ?? server.url });
        try {
          await body(client, server, version);
        } finally {
          client.close();
          await proxy?.close();
        }
      }));
  }
}

describe("Hrana over HTTP: cursors and streams", () => {
  for (const flavour of ["sqld", "spec"] as const) {
    it(`reads ${flavour}-style cursor output (row ids, extra entries)`, () =>
      withServer({ cursorFlavour: flavour }, async (server) => {
        const client = createClient({ url: server.url, intMode: "bigint" });
        try {
          await client.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
          await client.transaction("write", async (tx) => {
            const rows: unknown[] = [];
            for await (const row of await tx.cursor("INSERT INTO t(v) VALUES ('a'), ('b') RETURNING id, v")) {
              rows.push([row.id, row.v]);
            }
            expect(rows).toEqual([
              [1n, "a"],
              [2n, "b"],
            ]);
          });
          expect(server.requests.count("/v3/cursor")).toBe(1);
        } finally {
          client.close();
        }
      }));
  }

  it("streams: the first rows arrive long before a huge result would have been read", () =>
    withServer({}, async (server) => {
      const client = createClient({ url: server.url });
      try {
        const started = performance.now();
        const cursor = await client.cursor(COUNT_TO(5_000_000), { chunkSize: 100 });
        const first: number[] = [];
        for await (const row of cursor) {
          first.push(row.i as number);
          if (first.length === 250) break;
        }
        const ms = performance.now() - started;
        expect(first[249]).toBe(250);
        expect(cursor.closed).toBe(true);
        // Five million rows take the server many seconds to produce; three chunks take a few milliseconds.
        expect(ms).toBeLessThan(1500);
        expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      } finally {
        client.close();
      }
    }));

  bothVersions("lets other calls run while a transaction's cursor is still open", async (client) => {
    await client.execute("CREATE TABLE t(i)");
    await client.execute(`INSERT INTO t ${COUNT_TO(2000)}`);
    await client.transaction("write", async (tx) => {
      const cursor = await tx.cursor("SELECT i FROM t ORDER BY i", { chunkSize: 100 });
      const first = await cursor.next();
      expect(first.value?.i).toBe(1);
      // The rest of the cursor goes to memory so that the stream is free for this.
      await tx.execute("INSERT INTO t VALUES (0)");
      let n = 1;
      for await (const _ of cursor) n++;
      expect(n).toBe(2000);
      expect((await tx.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(2001);
    });
  });

  bothVersions("reports a transaction's metadata and autocommit state", async (client) => {
    await client.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)");
    const outside = await client.metadata();
    expect(outside).toEqual({ lastInsertRowid: 0n, changes: 0, totalChanges: 0, autocommit: true });
    await client.transaction("write", async (tx) => {
      await tx.execute("INSERT INTO t(x) VALUES (1), (2), (3)");
      const inside = await tx.metadata();
      expect(inside).toEqual({ lastInsertRowid: 3n, changes: 3, totalChanges: 3, autocommit: false });
    });
  });

  bothVersions(
    "keeps statements of a transaction ended by its own SQL from running outside it",
    async (client, server) => {
      await client.execute("CREATE TABLE t(x)");
      const tx = await client.transaction("write");
      await tx.execute("INSERT INTO t VALUES (1)");
      await tx.execute("ROLLBACK");
      await expectLibsqlError(tx.execute("INSERT INTO t VALUES (2)"), "TRANSACTION_CLOSED");
      expect((server.db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(0);
    },
  );

  it("sends Hrana 2 no is_autocommit: it emulates it with BEGIN/COMMIT probe steps", () =>
    withServer({}, async (server) => {
      const proxy = await startV2OnlyProxy(server.url);
      const log: Array<{ method: string; path: string; body: string }> = [];
      const client = createClient({ url: proxy.url, fetch: recordingFetch(log) });
      try {
        await client.batch(["SELECT 1"], "write");
        expect(log.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v3", "POST /v2/pipeline"]);
        const steps = JSON.parse(log[1]!.body).requests[0].batch.steps;
        expect(steps.map((s: { stmt: { sql: string } }) => s.stmt.sql)).toEqual([
          "BEGIN IMMEDIATE",
          "BEGIN DEFERRED",
          "COMMIT",
          "SELECT 1",
          "BEGIN DEFERRED",
          "COMMIT",
          "COMMIT",
          "ROLLBACK",
        ]);
        expect(log[1]!.body).not.toContain("is_autocommit");
      } finally {
        client.close();
        await proxy.close();
      }
    }));
});
