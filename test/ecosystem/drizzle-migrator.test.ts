import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterAll, describe, expect, it } from "vitest";
import { withClient } from "../support/client-factory.js";
import { posts, schema, users } from "./drizzle-schema.js";
import { drizzleMigrations } from "./drizzle-suite.js";
import { inProcessMemory, reference } from "./factories.js";

const referenceClient = reference();
afterAll(() => referenceClient.cleanup());

/** Drizzle's own migrator (`drizzle-orm/libsql/migrator`), which reads drizzle-kit's folder with node:fs. */
describe.each([inProcessMemory, referenceClient])("drizzle-orm/libsql/migrator on $name", (factory) => {
  it("applies Drizzle migrations once, rebuilding a referenced table without losing its children", () =>
    withClient(factory, async (client) => {
      const folder = mkdtempSync(join(tmpdir(), "libsql-web-drizzle-"));
      try {
        cpSync(drizzleMigrations, folder, { recursive: true });
        const journal = JSON.parse(readFileSync(join(drizzleMigrations, "meta/_journal.json"), "utf8"));
        const writeJournal = (entries: number) =>
          writeFileSync(
            join(folder, "meta/_journal.json"),
            JSON.stringify({ ...journal, entries: journal.entries.slice(0, entries) }),
          );
        const db = drizzle({ client, schema });
        writeJournal(1);
        await migrate(db, { migrationsFolder: folder });
        await client.execute("PRAGMA foreign_keys = ON");
        await client.execute(
          "INSERT INTO users (id, name, email, created_at) VALUES (1, 'Ada', 'ada@example.com', 0), (2, NULL, 'anon@example.com', 0)",
        );
        await client.execute("INSERT INTO posts (author_id, title) VALUES (1, 'kept'), (2, 'kept too')");
        // 0001 drops and recreates `users`; with foreign keys on, the DROP would cascade to posts.
        writeJournal(2);
        await migrate(db, { migrationsFolder: folder });
        await migrate(db, { migrationsFolder: folder });
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
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }));
});
