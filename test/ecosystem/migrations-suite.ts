import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import {
  appliedMigrations,
  type Migration,
  MigrationError,
  migrate,
  recreateTable,
  splitStatements,
} from "../../src/migrations/index.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";
import { raceMigrations } from "./fixtures/race-migrations.js";

const base: Migration[] = [
  {
    version: 1,
    name: "users",
    up: `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
         CREATE INDEX users_name ON users (name);`,
  },
  {
    version: 2,
    name: "posts",
    up: [
      "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, title TEXT)",
      { sql: "INSERT INTO users (id, email, name) VALUES (?, ?, ?)", args: [1, "ada@example.com", "Ada"] },
      { sql: "INSERT INTO posts (user_id, title) VALUES (?, ?)", args: [1, "first"] },
    ],
  },
];

const tables = async (client: Client) =>
  (await client.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).rows.map((r) => r.name);

async function rejection(promise: Promise<unknown>): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  return error as MigrationError;
}

/** What the migration suite needs to know about a client. */
export interface MigrationsSuiteOptions {
  /**
   * The client runs concurrent transactions on one instance (libsql-web queues them). `@libsql/client` hands
   * its connection to each transaction and fails the others with "SQLITE_BUSY: cannot commit transaction - SQL
   * statements in progress", so races are tested there with separate clients only.
   */
  concurrentTransactions?: boolean;
  /**
   * Opens two clients of one new, empty database (as two tabs' clients would share it), for the race between
   * clients. Without it that test is skipped: the factory gives each client a database of its own.
   */
  sameDatabase?: () => Promise<[Client, Client]>;
}

/** libsql-web's own migration runner (`libsql-web/migrations`) on a client. */
export function migrationsSuite(factory: ClientFactory, options: MigrationsSuiteOptions = {}): void {
  describe("migration runner", () => {
    it("applies migrations in order, records them, and does nothing the second time", () =>
      withClient(factory, async (client) => {
        expect(await migrate(client, base)).toEqual({
          applied: [
            { version: 1, name: "users" },
            { version: 2, name: "posts" },
          ],
          version: 2,
        });
        expect(await migrate(client, base)).toEqual({ applied: [], version: 2 });
        const history = await appliedMigrations(client);
        expect(history.map((m) => [m.version, m.name])).toEqual([
          [1, "users"],
          [2, "posts"],
        ]);
        expect(history[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(history[0]!.appliedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(await tables(client)).toEqual(["libsql_web_migrations", "posts", "users"]);
        expect((await client.execute("SELECT count(*) AS n FROM posts")).rows[0]!.n).toBe(1);
      }));

    it("stops at a broken migration, names it, and leaves the database at the last good version", () =>
      withClient(factory, async (client) => {
        const broken: Migration = {
          version: 3,
          name: "tags",
          up: "CREATE TABLE tags (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1); CREATE TABLE more (x);",
        };
        const after: Migration = { version: 4, name: "later", up: "CREATE TABLE later (x)" };
        const error = await rejection(migrate(client, [...base, broken, after]));
        expect(error.code).toBe("MIGRATION_FAILED");
        expect(error.version).toBe(3);
        expect(error.migrationName).toBe("tags");
        expect(error.statementIndex).toBe(1);
        expect(error.databaseVersion).toBe(2);
        expect(error.message).toMatch(
          /^MIGRATION_FAILED: migration 3 "tags" failed at statement 1 \(INSERT INTO no_such_table/,
        );
        expect(error.message).toMatch(/no such table: no_such_table/);
        expect(error.message).toMatch(/stays at version 2$/);
        // A Hrana server names the failure its own way (sqld: SQL_INPUT_ERROR while preparing); SQLite's code elsewhere.
        expect((error.cause as { code?: string }).code).toBe(
          factory.caps.extendedCodes ? "SQLITE_ERROR" : "SQL_INPUT_ERROR",
        );
        expect(await tables(client)).toEqual(["libsql_web_migrations", "posts", "users"]);
        expect((await appliedMigrations(client)).map((m) => m.version)).toEqual([1, 2]);

        const fixed = { ...broken, up: "CREATE TABLE tags (id INTEGER PRIMARY KEY);" };
        expect((await migrate(client, [...base, fixed, after])).applied.map((m) => m.version)).toEqual([3, 4]);
      }));

    it("rolls back a function migration that throws, and commits one that succeeds", () =>
      withClient(factory, async (client) => {
        await migrate(client, base);
        const failing: Migration = {
          version: 3,
          name: "lowercase emails",
          up: async (tx) => {
            await tx.execute("UPDATE users SET email = upper(email)");
            throw new Error("halfway");
          },
        };
        const error = await rejection(migrate(client, [...base, failing]));
        expect(error.message).toMatch(
          /migration 3 "lowercase emails" failed: halfway; the database stays at version 2/,
        );
        expect((await client.execute("SELECT email FROM users")).rows[0]!.email).toBe("ada@example.com");
        const working: Migration = {
          version: 3,
          name: "lowercase emails",
          up: async (tx) => {
            const rows = (await tx.execute("SELECT id, email FROM users")).rows;
            for (const row of rows) {
              await tx.execute({
                sql: "UPDATE users SET name = ? WHERE id = ?",
                args: [String(row.email).split("@")[0]!, row.id],
              });
            }
          },
        };
        expect((await migrate(client, [...base, working])).applied).toEqual([{ version: 3, name: "lowercase emails" }]);
        expect((await client.execute("SELECT name FROM users")).rows[0]!.name).toBe("ada");
      }));

    it("turns foreign keys off around SQL migrations and rejects one that leaves dangling references", () =>
      withClient(factory, async (client) => {
        await client.execute("PRAGMA foreign_keys = ON");
        await migrate(client, base);
        // Dropping `users` with foreign keys on would cascade to posts; the runner turns them off.
        const rebuild: Migration = {
          version: 3,
          name: "users: name NOT NULL",
          up: recreateTable({
            table: "users",
            definition: "id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT ''",
            copy: { id: "id", email: "email", name: "coalesce(name, '')" },
          }),
        };
        expect((await migrate(client, [...base, rebuild])).version).toBe(3);
        expect((await client.execute("SELECT count(*) AS n FROM posts")).rows[0]!.n).toBe(1);
        expect((await client.execute("PRAGMA foreign_keys")).rows[0]!.foreign_keys).toBe(1);

        const dangling: Migration = { version: 4, name: "orphan", up: "DELETE FROM users" };
        const error = await rejection(migrate(client, [...base, rebuild, dangling]));
        expect(error.code).toBe("MIGRATION_FAILED");
        expect(error.message).toMatch(/foreign keys point nowhere/);
        expect((await client.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(1);

        const danglingFn: Migration = {
          version: 4,
          name: "orphan",
          up: async (tx) => {
            await tx.execute("INSERT INTO posts (user_id, title) VALUES (99, 'nobody')");
          },
        };
        const fnError = await rejection(migrate(client, [...base, rebuild, danglingFn]));
        expect(fnError.message).toMatch(/foreign keys point nowhere \(posts row 2 → users\)/);
        expect((await appliedMigrations(client)).map((m) => m.version)).toEqual([1, 2, 3]);
      }));

    it("recreates a table with its indexes and triggers, and keeps views that use it", () =>
      withClient(factory, async (client) => {
        await migrate(client, base);
        await client.executeMultiple(`
          CREATE TABLE audit (what TEXT);
          CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('user ' || new.email); END;
          CREATE VIEW named AS SELECT name FROM users WHERE name IS NOT NULL;
          CREATE VIEW shouting AS SELECT upper(name) AS n FROM named;
          CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN UPDATE users SET name = name WHERE id = new.user_id; END;
        `);
        const plan = recreateTable({
          table: "users",
          definition:
            "id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE CHECK (email LIKE '%@%'), name TEXT, note TEXT DEFAULT 'none'",
        });
        const statements = await plan.plan(client);
        expect(statements.slice(0, 4)).toEqual([
          'DROP VIEW "named"',
          'DROP VIEW "shouting"',
          'DROP TRIGGER "posts_touch"',
          `CREATE TABLE "__new_users" (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE CHECK (email LIKE '%@%'), name TEXT, note TEXT DEFAULT 'none')`,
        ]);
        expect(statements[4]).toBe(
          'INSERT INTO "__new_users" ("id", "email", "name") SELECT "id", "email", "name" FROM "users"',
        );
        await migrate(client, [...base, { version: 3, name: "users: check email", up: plan }]);
        const schema = await client.execute(
          "SELECT type, name FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type, name",
        );
        expect(schema.rows.map((r) => `${r.type} ${r.name}`)).toEqual([
          "index users_name",
          "table audit",
          "table libsql_web_migrations",
          "table posts",
          "table users",
          "trigger posts_touch",
          "trigger users_audit",
          "view named",
          "view shouting",
        ]);
        await client.execute("INSERT INTO users (email, name) VALUES ('bob@example.com', 'Bob')");
        expect((await client.execute("SELECT what FROM audit")).rows.map((r) => r.what)).toEqual([
          "user bob@example.com",
        ]);
        expect((await client.execute("SELECT n FROM shouting ORDER BY n")).rows.map((r) => r.n)).toEqual([
          "ADA",
          "BOB",
        ]);
        expect((await client.execute("SELECT note FROM users WHERE id = 1")).rows[0]!.note).toBe("none");
        await expect(client.execute("INSERT INTO users (email) VALUES ('no-at-sign')")).rejects.toThrow(/CHECK/);

        // Dropping a column: its index would not recreate, so it is left out by name.
        const drop = recreateTable({
          table: "users",
          definition: "id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE",
          drop: ["users_name", "named", "shouting"],
        });
        await migrate(client, [
          ...base,
          { version: 3, name: "users: check email", up: plan },
          { version: 4, name: "drop name", up: drop },
        ]);
        expect((await client.execute("SELECT name FROM pragma_table_info('users')")).rows.map((r) => r.name)).toEqual([
          "id",
          "email",
        ]);
      }));

    it("skips migrations another run applied after this one read the history", () =>
      withClient(factory, async (client) => {
        const counter = (meanwhile?: () => Promise<unknown>): Migration[] => [
          { version: 1, name: "counter", up: "CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0);" },
          {
            version: 2,
            name: "hundred",
            up: {
              plan: async () => {
                await meanwhile?.();
                return ["UPDATE counter SET n = n + 100"];
              },
            },
          },
          {
            version: 3,
            name: "ten",
            up: async (tx) => {
              await tx.execute("UPDATE counter SET n = n + 10");
            },
          },
          { version: 4, name: "one", up: "UPDATE counter SET n = n + 1" },
        ];
        // While this run plans version 2, another applies 2 and 3: this run's guards find them recorded.
        const other = counter();
        const result = await migrate(
          client,
          counter(() => migrate(client, other, { to: 3 })),
        );
        expect(result).toEqual({
          applied: [
            { version: 1, name: "counter" },
            { version: 4, name: "one" },
          ],
          version: 4,
        });
        expect((await client.execute("SELECT n FROM counter")).rows[0]!.n).toBe(111);
      }));

    it.runIf(options.concurrentTransactions ?? true)(
      "never applies a migration twice when runs race on one client",
      () =>
        withClient(factory, async (client) => {
          const nap = () => new Promise((resolve) => setTimeout(resolve, 10));
          const list: Migration[] = [1, 2, 3, 4, 5, 6].map((version) => ({
            version,
            name: `step ${version}`,
            up:
              version % 2
                ? `INSERT INTO steps VALUES (${version})`
                : async (tx) => {
                    // Yield to the event loop inside the transaction, so the other runs get their turn.
                    await nap();
                    await tx.execute({ sql: "INSERT INTO steps VALUES (?)", args: [version] });
                  },
          }));
          await client.execute("CREATE TABLE steps (version INTEGER PRIMARY KEY)");
          const runs = await Promise.all([migrate(client, list), migrate(client, list), migrate(client, list)]);
          expect(runs.map((r) => r.version)).toEqual([6, 6, 6]);
          expect(runs.flatMap((r) => r.applied.map((m) => m.version)).sort()).toEqual([1, 2, 3, 4, 5, 6]);
          const steps = await client.execute("SELECT version FROM steps ORDER BY version");
          expect(steps.rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6]);
        }),
    );

    it.runIf(options.sameDatabase !== undefined)(
      "never applies a migration twice when two clients of one database race",
      async () => {
        const [a, b] = await options.sameDatabase!();
        try {
          const [ra, rb] = await Promise.all([migrate(a, raceMigrations), migrate(b, raceMigrations)]);
          expect([ra.version, rb.version]).toEqual([6, 6]);
          expect([...ra.applied, ...rb.applied].map((m) => m.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
          const steps = await b.execute("SELECT version FROM steps ORDER BY version");
          expect(steps.rows.map((r) => r.version)).toEqual([2, 3, 4, 5, 6]);
        } finally {
          a.close();
          b.close();
        }
      },
    );

    it("refuses a list that does not match the database's history", () =>
      withClient(factory, async (client) => {
        await migrate(client, base);
        const edited = [base[0]!, { ...base[1]!, up: [...(base[1]!.up as string[]), "SELECT 1"] }];
        const changed = await rejection(migrate(client, edited));
        expect(changed.code).toBe("MIGRATION_MISMATCH");
        expect(changed.message).toMatch(/migration 2 "posts" changed after it was applied/);
        expect((await migrate(client, edited, { verifyChecksums: false })).version).toBe(2);
        const renamed = await rejection(migrate(client, [base[0]!, { ...base[1]!, name: "articles" }]));
        expect(renamed.message).toMatch(/recorded migration 2 as "posts", the list calls it "articles"/);
        const unknown = await rejection(migrate(client, [base[0]!]));
        expect(unknown.message).toMatch(/has migration 2 "posts", which the list does not have/);
        const later: Migration = { version: 4, name: "later", up: "CREATE TABLE later (x)" };
        await migrate(client, [...base, later]);
        const skipped = await rejection(migrate(client, [...base, { version: 3, name: "forgotten", up: "" }, later]));
        expect(skipped.code).toBe("MIGRATION_MISMATCH");
        expect(skipped.message).toMatch(
          /migration 3 "forgotten" was never applied, but the database is already at version 4/,
        );
        const unordered = await rejection(migrate(client, [later, ...base]));
        expect(unordered.code).toBe("MIGRATION_INVALID");
        expect(unordered.message).toMatch(/version 1 does not follow 4/);
        const invalid = await rejection(migrate(client, [{ version: 0, name: "zero", up: "" }]));
        expect(invalid.message).toMatch(/version must be a positive integer/);
      }));

    it("migrates up to a chosen version, and into a table of the caller's naming", () =>
      withClient(factory, async (client) => {
        expect(await migrate(client, base, { to: 1, table: "schema history" })).toEqual({
          applied: [{ version: 1, name: "users" }],
          version: 1,
        });
        expect((await appliedMigrations(client, { table: "schema history" })).map((m) => m.version)).toEqual([1]);
        expect(await appliedMigrations(client)).toEqual([]);
      }));
  });

  describe("splitStatements", () => {
    it("splits at semicolons outside strings, names, comments and trigger bodies", () => {
      expect(
        splitStatements(`
          -- leading comment; not a statement
          CREATE TABLE "a;b" (x TEXT DEFAULT ';', [y;] INT, \`z;\` INT); /* ; */
          INSERT INTO "a;b" VALUES ('it''s; fine', 1, 2);;
          CREATE TEMP TRIGGER t AFTER INSERT ON "a;b" BEGIN
            UPDATE "a;b" SET x = CASE WHEN new.x = 'a' THEN 'b' ELSE 'c' END;
            SELECT 1;
          END;
          EXPLAIN SELECT 1;
          SELECT 'no semicolon at the end'`),
      ).toEqual([
        `CREATE TABLE "a;b" (x TEXT DEFAULT ';', [y;] INT, \`z;\` INT)`,
        `INSERT INTO "a;b" VALUES ('it''s; fine', 1, 2)`,
        `CREATE TEMP TRIGGER t AFTER INSERT ON "a;b" BEGIN
            UPDATE "a;b" SET x = CASE WHEN new.x = 'a' THEN 'b' ELSE 'c' END;
            SELECT 1;
          END`,
        "EXPLAIN SELECT 1",
        "SELECT 'no semicolon at the end'",
      ]);
      expect(splitStatements("  ;; -- nothing\n")).toEqual([]);
    });
  });
}
