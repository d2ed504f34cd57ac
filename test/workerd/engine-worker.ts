/**
 * A Cloudflare Worker using libsql-web's workerd entry: in-memory databases in
 * the wasm engine, and a remote one. Bundled by the test with esbuild (the
 * `.wasm` imports kept as modules) and run under workerd by miniflare.
 */
import { createClient, LibsqlError } from "../../src/workerd.js";

interface Env {
  DB_URL: string;
}

async function memory(): Promise<Record<string, unknown>> {
  const client = createClient(":memory:");
  const other = createClient({ url: ":memory:", intMode: "bigint" });
  try {
    const one = await client.execute("SELECT 1 AS one");
    const vector = await client.execute(
      "SELECT vector_distance_cos(vector('[1,0]'), vector('[1,0]')) AS same, vector_distance_cos(vector('[1,0]'), vector('[0,1]')) AS orthogonal",
    );
    await client.execute("CREATE TABLE t(i INTEGER, s TEXT)");
    const started = Date.now();
    await client.transaction("write", async (tx) => {
      const insert = await tx.prepare("INSERT INTO t VALUES (?, ?)");
      for (let i = 0; i < 10_000; i++) await insert.run([i, `row ${i}`]);
    });
    const insertMs = Date.now() - started;
    const sum = await client.execute("SELECT count(*) AS n, sum(i) AS total FROM t");
    const batch = await client.batch(["INSERT INTO t VALUES (-1, 'x')", "SELECT count(*) AS n FROM t"], "write");
    let streamed = 0;
    for await (const _ of await client.cursor("SELECT i FROM t", { chunkSize: 500 })) streamed++;
    const error = await client.execute("INSERT INTO nowhere VALUES (1)").catch((e: unknown) => e);
    // A second client has a database of its own.
    const separate = await other.execute("SELECT count(*) AS n FROM sqlite_schema");
    return {
      one: one.rows[0]?.one,
      same: vector.rows[0]?.same,
      orthogonal: vector.rows[0]?.orthogonal,
      count: sum.rows[0]?.n,
      total: sum.rows[0]?.total,
      afterBatch: batch[1]?.rows[0]?.n,
      streamed,
      insertMs,
      error: error instanceof LibsqlError ? error.code : String(error),
      separate: String(separate.rows[0]?.n),
      protocol: client.protocol,
    };
  } finally {
    client.close();
    other.close();
  }
}

async function remote(url: string): Promise<Record<string, unknown>> {
  const client = createClient(url);
  try {
    const rs = await client.execute("SELECT 'from the server' AS greeting");
    return { greeting: rs.rows[0]?.greeting, protocol: client.protocol };
  } finally {
    client.close();
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    try {
      const path = new URL(request.url).pathname;
      return Response.json(path === "/remote" ? await remote(env.DB_URL) : await memory());
    } catch (e) {
      return Response.json(
        { failure: String(e), code: (e as LibsqlError).code, stack: (e as Error).stack },
        { status: 500 },
      );
    }
  },
};
