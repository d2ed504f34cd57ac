import { LibsqlDialect, type LibsqlDialectConfig } from "@libsql/kysely-libsql";
import { asc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { type Generated, Kysely } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../../src/api.js";
import { withClient } from "../support/client-factory.js";
import { groups, posts, schema, users, usersToGroups } from "./drizzle-schema.js";
import { drizzleMigrations } from "./drizzle-suite.js";
import { inProcessMemory, reference } from "./factories.js";
import { type Call, recordingClient } from "./recording-client.js";

const referenceClient = reference();
afterAll(() => referenceClient.cleanup());

/** Runs `body`, keeping going if it throws (the error is in the call log). */
async function attempt(body: () => Promise<unknown>): Promise<void> {
  await body().catch(() => {});
}

/** A run of ORM work touching every client method the two ORMs use, including failures. */
async function scenario(client: Client): Promise<void> {
  const db = drizzle({ client, schema });
  await migrate(db, { migrationsFolder: drizzleMigrations });
  await migrate(db, { migrationsFolder: drizzleMigrations });
  const [ada] = await db
    .insert(users)
    .values({ name: "Ada", email: "ada@example.com", createdAt: new Date(1), avatar: Buffer.from([1, 2]) })
    .returning();
  await db.insert(posts).values([
    { authorId: ada!.id, title: "A", score: 1.5 },
    { authorId: ada!.id, title: "B" },
  ]);
  await db.insert(groups).values({ name: "g" });
  await db.insert(usersToGroups).values({ userId: ada!.id, groupId: 1 });
  await db.select().from(posts).innerJoin(users, eq(users.id, posts.authorId)).orderBy(asc(posts.id));
  await db.query.users.findMany({ with: { posts: true, memberships: { with: { group: true } } } });
  await attempt(() => db.insert(users).values({ name: "Dup", email: "ada@example.com", createdAt: new Date(2) }));
  await attempt(() =>
    db.transaction(async (tx) => {
      await tx.insert(groups).values({ name: "h" });
      tx.rollback();
    }),
  );
  await attempt(() => db.batch([db.insert(groups).values({ name: "i" }), db.insert(groups).values({ name: "g" })]));
  await db.update(users).set({ balance: "1.25" }).where(eq(users.id, ada!.id)).returning();
  await db.get(sql`SELECT 9007199254740991 AS big, 1.0 AS one, NULL AS empty, x'00ff' AS bytes`);
  await attempt(() => db.run(sql`SELECT * FROM no_such_table`));

  const k = new Kysely<{ groups: { id: Generated<number>; name: string } }>({
    dialect: new LibsqlDialect({
      client: client as unknown as Extract<LibsqlDialectConfig, { client: unknown }>["client"],
    }),
  });
  await k.insertInto("groups").values({ name: "k" }).executeTakeFirst();
  await k.selectFrom("groups").selectAll().orderBy("id").execute();
  await k.updateTable("groups").set({ name: "k2" }).where("name", "=", "k").executeTakeFirst();
  await attempt(() =>
    k.transaction().execute(async (tx) => {
      await tx.insertInto("groups").values({ name: "t" }).execute();
      await tx.insertInto("groups").values({ name: "g" }).execute();
    }),
  );
  await k.introspection.getTables();
  await k.deleteFrom("groups").where("name", "=", "k2").executeTakeFirst();
}

/**
 * A call as text, with two differences that are not ours to match taken out:
 * - `@libsql/client` repeats the code in batch error messages ("SQLITE_CONSTRAINT: SQLITE_CONSTRAINT: …");
 * - after a statement that inserts nothing, `lastInsertRowid` is the connection's last insert; `@libsql/client`
 *   gives its connection to each transaction and opens a new one (so 0 afterwards), libsql-web's connections
 *   share one handle. Neither ORM reads it then.
 */
function text(call: Call | undefined): string | undefined {
  const input = call?.input;
  const sql = typeof input === "string" ? input : ((input as { sql?: string } | null)?.sql ?? "");
  const inserts = call?.method !== "execute" || /^\s*insert/i.test(sql);
  return JSON.stringify(call, (key, v) => {
    if (key === "lastInsertRowid" && !inserts) return "(not an insert)";
    if (typeof v === "bigint") return `${v}n`;
    if (key === "message" && typeof v === "string") return v.replace(/^(\w+: )\1+/, "$1");
    return v;
  });
}

/** The calls that differ (input or output), with both sides. */
function differences(ours: Call[], theirs: Call[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    if (text(ours[i]) !== text(theirs[i]))
      out.push({ index: i, ours: JSON.parse(text(ours[i]) ?? "null"), theirs: JSON.parse(text(theirs[i]) ?? "null") });
  }
  return out;
}

describe("the ORMs see libsql-web as they see @libsql/client", () => {
  it("makes the same calls and gets the same results and errors", async () => {
    const run = (factory: typeof inProcessMemory) =>
      withClient(factory, async (client) => {
        const recorded = recordingClient(client);
        await scenario(recorded.client);
        return recorded.calls;
      });
    const ours = await run(inProcessMemory);
    const theirs = await run(referenceClient);
    expect(ours.length).toBeGreaterThan(25);
    expect(differences(ours, theirs)).toEqual([]);
  });
});
