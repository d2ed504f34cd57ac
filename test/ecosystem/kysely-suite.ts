import { LibsqlDialect, type LibsqlDialectConfig } from "@libsql/kysely-libsql";
import { type Generated, Kysely, type Migration, Migrator, ParseJSONResultsPlugin, sql } from "kysely";
import { jsonArrayFrom, jsonObjectFrom } from "kysely/helpers/sqlite";
import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import { type ClientFactory, withClient } from "../support/client-factory.js";

interface Database {
  users: { id: Generated<number>; name: string; email: string };
  posts: { id: Generated<number>; author_id: number; title: string };
  groups: { id: Generated<number>; name: string };
  users_to_groups: { user_id: number; group_id: number };
}

/**
 * `@libsql/kysely-libsql` is typed against its own `@libsql/client@0.8`
 * (`sync(): Promise<void>`), which no current client matches, not even
 * `@libsql/client@0.17`; the cast is the one its users write too.
 */
function dialect(client: Client): LibsqlDialect {
  return new LibsqlDialect({
    client: client as unknown as Extract<LibsqlDialectConfig, { client: unknown }>["client"],
  });
}

const schema: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("users")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("email", "text", (c) => c.notNull().unique())
      .execute();
    await db.schema
      .createTable("posts")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("author_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("title", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("posts_author").on("posts").column("author_id").execute();
    await db.schema
      .createTable("groups")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .execute();
    await db.schema
      .createTable("users_to_groups")
      .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("group_id", "integer", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("users_to_groups_pk", ["user_id", "group_id"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ["users_to_groups", "groups", "posts", "users"]) await db.schema.dropTable(table).execute();
  },
};

const migrations = (extra: Record<string, Migration> = {}) => ({
  getMigrations: async () => ({ "0001_schema": schema, ...extra }),
});

/** Runs `body` with Kysely over a fresh client, schema applied by Kysely's own migrator. */
function withDb<T>(factory: ClientFactory, body: (db: Kysely<Database>, client: Client) => Promise<T>): Promise<T> {
  return withClient(factory, async (client) => {
    const db = new Kysely<Database>({ dialect: dialect(client), plugins: [new ParseJSONResultsPlugin()] });
    const { error } = await new Migrator({ db, provider: migrations() }).migrateToLatest();
    if (error) throw error;
    try {
      return await body(db, client);
    } finally {
      await db.destroy();
    }
  });
}

async function seed(db: Kysely<Database>) {
  const people = await db
    .insertInto("users")
    .values([
      { name: "Ada", email: "ada@example.com" },
      { name: "Bob", email: "bob@example.com" },
      { name: "Cy", email: "cy@example.com" },
    ])
    .returning(["id", "name"])
    .execute();
  await db
    .insertInto("posts")
    .values([
      { author_id: 1, title: "Engines" },
      { author_id: 1, title: "Notes" },
      { author_id: 2, title: "Hello" },
    ])
    .execute();
  await db
    .insertInto("groups")
    .values([{ name: "admins" }, { name: "writers" }])
    .execute();
  await db
    .insertInto("users_to_groups")
    .values([
      { user_id: 1, group_id: 1 },
      { user_id: 1, group_id: 2 },
      { user_id: 2, group_id: 2 },
    ])
    .execute();
  return people;
}

/**
 * Kysely through `@libsql/kysely-libsql` (`new LibsqlDialect({ client })`),
 * unchanged: its migrator, inserts returning rows, insert ids, joins over
 * both kinds of association, nested JSON relations, transactions and
 * introspection.
 */
export function kyselySuite(factory: ClientFactory): void {
  describe("kysely with @libsql/kysely-libsql", () => {
    it("inserts returning rows, reports insert ids and affected rows", () =>
      withDb(factory, async (db) => {
        const people = await seed(db);
        expect(people).toEqual([
          { id: 1, name: "Ada" },
          { id: 2, name: "Bob" },
          { id: 3, name: "Cy" },
        ]);
        const inserted = await db.insertInto("groups").values({ name: "readers" }).executeTakeFirstOrThrow();
        expect(inserted.insertId).toBe(3n);
        const updated = await db
          .updateTable("posts")
          .set({ title: sql<string>`upper(title)` })
          .where("author_id", "=", 1)
          .executeTakeFirstOrThrow();
        expect(updated.numUpdatedRows).toBe(2n);
        const removed = await db.deleteFrom("groups").where("name", "=", "readers").executeTakeFirstOrThrow();
        expect(removed.numDeletedRows).toBe(1n);
      }));

    it("joins a one-to-many and a many-to-many association", () =>
      withDb(factory, async (db) => {
        await seed(db);
        const rows = await db
          .selectFrom("posts")
          .innerJoin("users", "users.id", "posts.author_id")
          .select(["posts.title", "users.name as author"])
          .orderBy("posts.id")
          .execute();
        expect(rows).toEqual([
          { title: "Engines", author: "Ada" },
          { title: "Notes", author: "Ada" },
          { title: "Hello", author: "Bob" },
        ]);
        const counts = await db
          .selectFrom("users")
          .leftJoin("posts", "posts.author_id", "users.id")
          .select(["users.name", (eb) => eb.fn.count<number>("posts.id").as("posts")])
          .groupBy("users.id")
          .orderBy("users.id")
          .execute();
        expect(counts).toEqual([
          { name: "Ada", posts: 2 },
          { name: "Bob", posts: 1 },
          { name: "Cy", posts: 0 },
        ]);
        const writers = await db
          .selectFrom("users")
          .innerJoin("users_to_groups as m", "m.user_id", "users.id")
          .innerJoin("groups", "groups.id", "m.group_id")
          .where("groups.name", "=", "writers")
          .select("users.name")
          .orderBy("users.name")
          .execute();
        expect(writers).toEqual([{ name: "Ada" }, { name: "Bob" }]);
      }));

    it("nests associations as JSON (Kysely's relation helpers)", () =>
      withDb(factory, async (db) => {
        await seed(db);
        const users = await db
          .selectFrom("users")
          .select((eb) => [
            "users.name",
            jsonArrayFrom(
              eb
                .selectFrom("posts")
                .select("posts.title")
                .whereRef("posts.author_id", "=", "users.id")
                .orderBy("posts.id"),
            ).as("posts"),
            jsonArrayFrom(
              eb
                .selectFrom("users_to_groups as m")
                .innerJoin("groups", "groups.id", "m.group_id")
                .select("groups.name")
                .whereRef("m.user_id", "=", "users.id")
                .orderBy("groups.name"),
            ).as("groups"),
          ])
          .orderBy("users.id")
          .execute();
        expect(users).toEqual([
          {
            name: "Ada",
            posts: [{ title: "Engines" }, { title: "Notes" }],
            groups: [{ name: "admins" }, { name: "writers" }],
          },
          { name: "Bob", posts: [{ title: "Hello" }], groups: [{ name: "writers" }] },
          { name: "Cy", posts: [], groups: [] },
        ]);
        const post = await db
          .selectFrom("posts")
          .select((eb) => [
            "title",
            jsonObjectFrom(eb.selectFrom("users").select("email").whereRef("users.id", "=", "posts.author_id")).as(
              "author",
            ),
          ])
          .where("title", "=", "Hello")
          .executeTakeFirstOrThrow();
        expect(post).toEqual({ title: "Hello", author: { email: "bob@example.com" } });
      }));

    it("commits a transaction and rolls back one that throws", () =>
      withDb(factory, async (db) => {
        await seed(db);
        await db.transaction().execute(async (tx) => {
          await tx.insertInto("users").values({ name: "Dee", email: "dee@example.com" }).execute();
        });
        await expect(
          db.transaction().execute(async (tx) => {
            await tx.insertInto("users").values({ name: "Eve", email: "eve@example.com" }).execute();
            await tx.insertInto("users").values({ name: "Dup", email: "ada@example.com" }).execute();
          }),
        ).rejects.toThrow(/UNIQUE/);
        const names = await db.selectFrom("users").select("name").orderBy("id").execute();
        expect(names.map((r) => r.name)).toEqual(["Ada", "Bob", "Cy", "Dee"]);
      }));

    it("introspects the schema and runs its migrator up, down and on a failing migration", () =>
      withDb(factory, async (db, client) => {
        const tables = await db.introspection.getTables();
        const posts = tables.find((t) => t.name === "posts");
        expect(posts?.columns.map((c) => [c.name, c.dataType, c.isNullable, c.isAutoIncrementing])).toEqual([
          ["id", "INTEGER", true, true],
          ["author_id", "INTEGER", false, false],
          ["title", "TEXT", false, false],
        ]);
        const broken: Migration = {
          async up(k: Kysely<unknown>) {
            await k.schema
              .createTable("tags")
              .addColumn("id", "integer", (c) => c.primaryKey())
              .execute();
            await sql`INSERT INTO no_such_table VALUES (1)`.execute(k);
          },
        };
        const migrator = new Migrator({ db, provider: migrations({ "0002_broken": broken }) });
        const { error, results } = await migrator.migrateToLatest();
        expect(error).toBeDefined();
        expect(results?.map((r) => [r.migrationName, r.status])).toEqual([["0002_broken", "Error"]]);
        // Kysely's SQLite adapter runs migrations without a transaction: the failed one's first step stays.
        const tags = await client.execute("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'tags'");
        expect(tags.rows[0]!.n).toBe(1);
        const recorded = await db
          .selectFrom("kysely_migration" as never)
          .select(sql<string>`name`.as("name"))
          .execute();
        expect(recorded).toEqual([{ name: "0001_schema" }]);
        await db.schema.dropTable("tags").execute();
        const down = await new Migrator({ db, provider: migrations() }).migrateDown();
        expect(down.error).toBeUndefined();
        expect((await db.introspection.getTables()).map((t) => t.name)).toEqual([]);
      }));
  });
}
