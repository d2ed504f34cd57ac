import { relations } from "drizzle-orm";
import { blob, index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** A blog schema with one-to-many (users → posts) and many-to-many (users ↔ groups) associations. */
export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  profile: text("profile", { mode: "json" }).$type<{ bio: string; tags: string[] }>(),
  avatar: blob("avatar", { mode: "buffer" }),
  // Exact decimals as text (see libsql-web/types `decimal`).
  balance: text("balance").notNull().default("0.00"),
});

export const posts = sqliteTable(
  "posts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    authorId: integer("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    score: real("score").notNull().default(0),
  },
  (t) => [index("posts_author_idx").on(t.authorId)],
);

export const groups = sqliteTable("groups", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
});

export const usersToGroups = sqliteTable(
  "users_to_groups",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.groupId] })],
);

export const usersRelations = relations(users, ({ many }) => ({
  posts: many(posts),
  memberships: many(usersToGroups),
}));

export const postsRelations = relations(posts, ({ one }) => ({
  author: one(users, { fields: [posts.authorId], references: [users.id] }),
}));

export const groupsRelations = relations(groups, ({ many }) => ({
  memberships: many(usersToGroups),
}));

export const usersToGroupsRelations = relations(usersToGroups, ({ one }) => ({
  user: one(users, { fields: [usersToGroups.userId], references: [users.id] }),
  group: one(groups, { fields: [usersToGroups.groupId], references: [groups.id] }),
}));

/** Everything, for `drizzle({ client, schema })`. */
export const schema = {
  users,
  posts,
  groups,
  usersToGroups,
  usersRelations,
  postsRelations,
  groupsRelations,
  usersToGroupsRelations,
};
