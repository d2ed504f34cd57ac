/**
 * A Cloudflare Worker that talks to a Hrana server through libsql-web's remote
 * entry. Bundled by the test with esbuild and run under workerd by miniflare.
 */
import { createClient, LibsqlError } from "../../src/remote.js";

interface Env {
  DB_URL: string;
  DB_TOKEN: string;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const client = createClient({ url: env.DB_URL, authToken: env.DB_TOKEN, intMode: "bigint" });
    try {
      await client.execute("CREATE TABLE IF NOT EXISTS visits(id INTEGER PRIMARY KEY, at TEXT, data BLOB)");
      const inserted = await client.execute({
        sql: "INSERT INTO visits(at, data) VALUES (?, ?)",
        args: ["edge", new Uint8Array([1, 2, 3])],
      });
      const batch = await client.batch(
        ["SELECT count(*) AS n FROM visits", "SELECT hex(data) AS h FROM visits"],
        "read",
      );
      const tx = await client.transaction("write");
      await tx.execute("INSERT INTO visits(at) VALUES ('tx')");
      const inside = await tx.execute("SELECT count(*) AS n FROM visits");
      await tx.rollback();
      const streamed: bigint[] = [];
      for await (const row of await client.cursor("SELECT value FROM json_each('[1,2,3,4,5]')", { chunkSize: 2 })) {
        streamed.push(row.value as bigint);
      }
      const error = await client.execute("SELECT * FROM missing").catch((e: unknown) => e);
      return Response.json({
        protocol: client.protocol,
        rowid: String(inserted.lastInsertRowid),
        count: String(batch[0]?.rows[0]?.n),
        hex: batch[1]?.rows[0]?.h,
        inside: String(inside.rows[0]?.n),
        streamed: streamed.map(String),
        error: error instanceof LibsqlError ? { code: error.code, message: error.message } : String(error),
      });
    } catch (e) {
      return Response.json({ failure: String(e), code: (e as LibsqlError).code }, { status: 500 });
    } finally {
      client.close();
    }
  },
};
