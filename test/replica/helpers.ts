import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { Client } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import type { ReplicaClient, ReplicaConfig } from "../../src/replica/replica-api.js";
import { type HranaTestServer, startTestServer, type TestServerOptions } from "../server/hrana-server.js";
import { enableSync, type SyncEndpoints } from "../server/sync-routes.js";

/** A test server with the sync protocol, a temporary directory, and cleanup of both and of every client. */
export interface Rig {
  server: HranaTestServer;
  sync: SyncEndpoints;
  dir: string;
  /** A replica client on `name` (default `replica.db`) in the rig's directory. */
  replica(config?: Partial<ReplicaConfig> & { name?: string }): ReplicaClient;
  /** Path of a file in the rig's directory. */
  path(name: string): string;
  close(): Promise<void>;
}

/** Starts a rig; always `await rig.close()` (or use `withRig`). */
export async function startRig(options: TestServerOptions = {}): Promise<Rig> {
  const server = await startTestServer(options);
  const sync = enableSync(server);
  const dir = mkdtempSync(join(tmpdir(), "libsql-web-replica-"));
  const clients: Client[] = [];
  return {
    server,
    sync,
    dir,
    path: (name) => join(dir, name),
    replica: (config = {}) => {
      const { name, ...rest } = config;
      const client = createClient({
        url: `file:${join(dir, name ?? "replica.db")}`,
        syncUrl: server.url,
        authToken: options.authToken,
        ...rest,
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) await client[Symbol.asyncDispose]();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a rig that is closed afterwards, whatever happens. */
export async function withRig<T>(options: TestServerOptions, fn: (rig: Rig) => Promise<T>): Promise<T> {
  const rig = await startRig(options);
  try {
    return await fn(rig);
  } finally {
    await rig.close();
  }
}

/** Names of the primary's user tables. */
function tables(server: HranaTestServer): string[] {
  return (
    server.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .raw(true)
      .all() as unknown[][]
  ).map((row) => String(row[0]));
}

/** The queries of a dump: the schema, then each of the primary's tables (see `dumpSql`). */
export function dumpQueries(server: HranaTestServer): string[] {
  return ["SELECT type, name, sql FROM sqlite_schema ORDER BY name", ...tables(server).map((t) => dumpSql(server, t))];
}

/** A query returning each column of `table` with its type, ordered by every column. */
function dumpSql(server: HranaTestServer, table: string): string {
  const columns = (server.db.prepare("SELECT name FROM pragma_table_info(?)").raw(true).all(table) as unknown[][]).map(
    (row) => `"${String(row[0]).replaceAll('"', '""')}"`,
  );
  const order = columns.map((_, i) => i + 1).join(", ");
  const select = columns.flatMap((c) => [c, `typeof(${c})`]).join(", ");
  return `SELECT ${select} FROM "${table.replaceAll('"', '""')}" ORDER BY ${order}`;
}

/** A row as exact text: integers as decimal, reals by JavaScript's round-trip form, blobs in hex. */
function render(row: unknown[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < row.length; i += 2) {
    const value = row[i];
    const type = String(row[i + 1]);
    if (value === null) out.push("null");
    else if (type === "blob") out.push(`x${Buffer.from(value as ArrayBuffer).toString("hex")}`);
    else out.push(`${type}:${String(value)}`);
  }
  return out;
}

/** The primary's contents: its schema and every table's rows, as text. */
export function primaryDump(server: HranaTestServer): string {
  const out: unknown[] = [server.db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").raw(true).all()];
  for (const table of tables(server)) {
    const rows = server.db.prepare(dumpSql(server, table)).raw(true).safeIntegers(true).all() as unknown[][];
    out.push(table, rows.map(render));
  }
  return JSON.stringify(out);
}

/** The replica's contents, in the same form as `primaryDump`. */
export async function replicaDump(client: Client, server: HranaTestServer): Promise<string> {
  const rowsOf = async (sql: string) =>
    (await client.execute(sql)).rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
  const out: unknown[] = [await rowsOf("SELECT type, name, sql FROM sqlite_schema ORDER BY name")];
  for (const table of tables(server)) out.push(table, (await rowsOf(dumpSql(server, table))).map(render));
  return JSON.stringify(out);
}

/** Expects the replica to hold exactly the primary's contents and to pass `integrity_check`. */
export async function expectInSync(client: Client, server: HranaTestServer): Promise<void> {
  const check = await client.execute("PRAGMA integrity_check");
  expect(check.rows.map((r) => r[0])).toEqual(["ok"]);
  expect(await replicaDump(client, server)).toBe(primaryDump(server));
}

/**
 * Compares a replica's file with the primary's after a checkpoint (which
 * makes the primary's file whole): byte for byte, except where the replica
 * rightly differs in page 1's header: the file format bytes (WAL 2 → rollback
 * 1) and the change counter with its "valid for" copy and version number.
 */
export function expectSameFile(replicaPath: string, primaryPath: string): void {
  const replica = readFileSync(replicaPath);
  const primary = readFileSync(primaryPath);
  expect(replica.length).toBe(primary.length);
  const differ: number[] = [];
  for (let i = 0; i < primary.length; i++) if (replica[i] !== primary[i]) differ.push(i);
  const allowed = new Set([18, 19, 24, 25, 26, 27, 92, 93, 94, 95, 96, 97, 98, 99]);
  expect(differ.filter((i) => !allowed.has(i))).toEqual([]);
}

/** Reads a replica's metadata file. */
export function readMeta(dbPath: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(`${dbPath}-replica.json`, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A fetch that fails like a network cut while `offline()` says so. */
export function switchableFetch(): { fetch: (request: Request) => Promise<Response>; offline: (cut: boolean) => void } {
  let cut = false;
  return {
    fetch: (request) => {
      if (cut) {
        const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1"), { code: "ECONNREFUSED" });
        return Promise.reject(new TypeError("fetch failed", { cause }));
      }
      return fetch(request);
    },
    offline: (value) => {
      cut = value;
    },
  };
}
