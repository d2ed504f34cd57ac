import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { appliedMigrations, type Migration, MigrationError, migrate } from "../../src/migrations/index.js";
import { createClient } from "../../src/node.js";
import { inProcessFile } from "./factories.js";
import { raceMigrations } from "./fixtures/race-migrations.js";

const files = inProcessFile();
afterAll(() => files.cleanup());

/** A fresh `file:` database path (in a temp directory removed after the tests). */
async function freshPath(): Promise<string> {
  const probe = await files.create();
  const rs = await probe.execute("SELECT file FROM pragma_database_list WHERE name = 'main'");
  probe.close();
  return String(rs.rows[0]!.file);
}

/** Runs fixtures/migrate-child.ts in a new Node process; resolves with the versions it applied. */
function childMigrate(path: string): Promise<number[]> {
  const script = new URL("./fixtures/migrate-child.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", script, path], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exited with ${code}: ${err}`)),
    );
  });
}

async function steps(path: string): Promise<unknown[]> {
  const client = createClient({ url: `file:${path}` });
  try {
    return (await client.execute("SELECT version FROM steps ORDER BY version")).rows.map((r) => r.version);
  } finally {
    client.close();
  }
}

describe("migration runner on file: databases", () => {
  it("lets two clients of one file migrate at once without applying anything twice", async () => {
    const path = await freshPath();
    const a = createClient({ url: `file:${path}` });
    const b = createClient({ url: `file:${path}` });
    try {
      const [ra, rb] = await Promise.all([migrate(a, raceMigrations), migrate(b, raceMigrations)]);
      expect([ra.version, rb.version]).toEqual([6, 6]);
      expect([...ra.applied, ...rb.applied].map((m) => m.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      a.close();
      b.close();
    }
    expect(await steps(path)).toEqual([2, 3, 4, 5, 6]);
  });

  it("lets two processes migrate one file at once without applying anything twice", async () => {
    const path = await freshPath();
    const [first, second] = await Promise.all([childMigrate(path), childMigrate(path)]);
    expect([...first, ...second].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await steps(path)).toEqual([2, 3, 4, 5, 6]);
  });

  it("keeps the last good version on disk after a failure, for the next process to continue from", async () => {
    const path = await freshPath();
    const broken: Migration = { version: 7, name: "broken", up: "CREATE TABLE x (a); SELECT * FROM nowhere;" };
    const client = createClient({ url: `file:${path}` });
    try {
      const error = await migrate(client, [...raceMigrations, broken]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).databaseVersion).toBe(6);
    } finally {
      client.close();
    }
    const reopened = createClient({ url: `file:${path}` });
    try {
      expect((await appliedMigrations(reopened)).map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
      const fixed = { ...broken, up: "CREATE TABLE x (a)" };
      expect(await migrate(reopened, [...raceMigrations, fixed])).toEqual({
        applied: [{ version: 7, name: "broken" }],
        version: 7,
      });
      expect((await reopened.execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
    } finally {
      reopened.close();
    }
  });
});
