/**
 * The ecosystem suites inside Chromium (Vitest browser mode), through the
 * browser entry's `createClient`: the engine runs in the page's shared module
 * worker. Everything runs on `:memory:`; the ORMs and the migration runner
 * also run on `opfs:` databases (opfs-sahpool), where two clients of one
 * database share the worker's single handle.
 */
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { describe, expect, it } from "vitest";
import type { Client, Config } from "../../src/api.js";
import { createClient } from "../../src/browser.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { posts, schema, users } from "./drizzle-schema.js";
import { type Db, drizzleSuite } from "./drizzle-suite.js";
import { kyselySuite } from "./kysely-suite.js";
import { migrationsSuite } from "./migrations-suite.js";
import { typesSuite } from "./types-suite.js";
import { vectorSuite } from "./vector-suite.js";

const caps = { extendedCodes: true, localEngine: true, sharedConnection: true };
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
let databases = 0;

const memory: ClientFactory = {
  name: "worker, memory",
  caps,
  create: async (config?: Partial<Config>) => createClient({ ...config, url: ":memory:" }),
};

const opfsUrl = () => `opfs:ecosystem/${run}-${++databases}.db`;

const opfs: ClientFactory = {
  name: "worker, opfs-sahpool",
  caps,
  create: async (config?: Partial<Config>) => createClient({ ...config, url: opfsUrl() }),
};

/** Two clients of one new `opfs:` database: in one page they share the worker and its one handle. */
async function twoClientsOfOneOpfsDatabase(): Promise<[Client, Client]> {
  const url = opfsUrl();
  return [createClient({ url }), createClient({ url })];
}

interface MigrationMeta {
  sql: string[];
  folderMillis: number;
  hash: string;
}

/**
 * drizzle-kit's folder (fixtures/drizzle), read as `readMigrationFiles` reads it, but over HTTP from Vite's
 * server. The URLs are written out in `new URL(…, import.meta.url)` form, which Vite rewrites to files it serves.
 */
async function fixtureMigrations(entries: number): Promise<MigrationMeta[]> {
  const text = async (url: URL) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
  };
  const journal = JSON.parse(await text(new URL("./fixtures/drizzle/meta/_journal.json", import.meta.url))) as {
    entries: Array<{ tag: string; when: number }>;
  };
  return Promise.all(
    journal.entries.slice(0, entries).map(async (entry) => {
      const query = await text(new URL(`./fixtures/drizzle/${entry.tag}.sql`, import.meta.url));
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(query));
      const hash = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
      return { sql: query.split("--> statement-breakpoint"), folderMillis: entry.when, hash };
    }),
  );
}

/**
 * `drizzle-orm/libsql/migrator`'s `migrate()` step for step (it reads its folder with `node:fs`, so it cannot
 * load in a page): the same statements, ending in the same `client.migrate()` call its session makes.
 * `entries` cuts the journal, as a folder would look before drizzle-kit generated the later migrations.
 */
async function drizzleMigrate(db: Db, client: Client, entries = Number.POSITIVE_INFINITY): Promise<void> {
  const migrations = await fixtureMigrations(entries);
  await db.run(
    sql`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  );
  const [last] = await db.values(
    sql`SELECT id, hash, created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1`,
  );
  const statements = migrations
    .filter((m) => !last || Number(last[2]) < m.folderMillis)
    .flatMap((m) => [
      ...m.sql.map((stmt) => ({ sql: stmt, args: [] })),
      {
        sql: `INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES(?, ?)`,
        args: [m.hash, m.folderMillis],
      },
    ]);
  await client.migrate(statements);
}

describe(memory.name, () => {
  drizzleSuite(memory, { applySchema: drizzleMigrate });
  kyselySuite(memory);
  migrationsSuite(memory);
  typesSuite(memory);
  // 1000 vectors rather than Node's 2500: the index build dominates (~1.8 s here), and Node runs the larger set.
  vectorSuite(memory, { count: 1000 });
});

// The storage changes nothing for values and vectors; it matters to transactions and to clients sharing a file.
describe(opfs.name, () => {
  drizzleSuite(opfs, { applySchema: drizzleMigrate });
  kyselySuite(opfs);
  migrationsSuite(opfs, { sameDatabase: twoClientsOfOneOpfsDatabase });
});

// drizzle-migrator.test.ts's scenario, with the migrator above in place of Drizzle's file-reading one.
describe.each([memory, opfs])("Drizzle migrations on $name", (factory) => {
  it("applies them once, rebuilding a referenced table without losing its children", () =>
    withClient(factory, async (client) => {
      const db = drizzle({ client, schema });
      await drizzleMigrate(db, client, 1);
      await client.execute("PRAGMA foreign_keys = ON");
      await client.execute(
        "INSERT INTO users (id, name, email, created_at) VALUES (1, 'Ada', 'ada@example.com', 0), (2, NULL, 'anon@example.com', 0)",
      );
      await client.execute("INSERT INTO posts (author_id, title) VALUES (1, 'kept'), (2, 'kept too')");
      // 0001 drops and recreates `users`; with foreign keys on, the DROP would cascade to posts.
      await drizzleMigrate(db, client);
      await drizzleMigrate(db, client);
      const applied = await client.execute("SELECT hash, created_at FROM __drizzle_migrations ORDER BY id");
      expect(applied.rows.map((r) => Number(r.created_at))).toEqual([1700000000000, 1700000100000]);
      expect(await db.$count(posts)).toBe(2);
      const names = await db.select({ name: users.name, balance: users.balance }).from(users).orderBy(users.id);
      expect(names).toEqual([
        { name: "Ada", balance: "0.00" },
        { name: "", balance: "0.00" },
      ]);
      const index = await client.execute("SELECT name FROM sqlite_schema WHERE name = 'users_email_unique'");
      expect(index.rows).toHaveLength(1);
      expect((await client.execute("PRAGMA foreign_key_check")).rows).toEqual([]);
    }));
});
