/**
 * What the browser test runs against the loopback server, in the page and in
 * a dedicated worker: a cross-origin client with a token (so every POST needs
 * a CORS preflight), a transaction, a cursor and an error.
 */
import { createClient, LibsqlError } from "../../src/remote.js";

export async function remoteChecks(url: string, authToken: string): Promise<Record<string, unknown>> {
  const client = createClient({ url, authToken });
  try {
    await client.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
    await client.execute({ sql: "INSERT INTO t(v, b) VALUES (?, ?)", args: ["é ✓", new Uint8Array([0, 255])] });
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO t(v) VALUES ('in tx')");
    await tx.commit();
    const rows: unknown[] = [];
    for await (const row of await client.cursor("SELECT v, hex(b) AS h FROM t ORDER BY id", { chunkSize: 1 })) {
      rows.push([row.v, row.h]);
    }
    const error = await client.execute("SELEC 1").catch((e: unknown) => e);
    return {
      rows,
      error: error instanceof LibsqlError ? error.code : String(error),
      protocol: client.protocol,
      worker: typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined",
    };
  } finally {
    client.close();
  }
}
