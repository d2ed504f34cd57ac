import type { Executor, InStatement } from "../api.js";
import type { MigrationPlan } from "./migration.js";
import { MigrationError } from "./migration-error.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { type SqlToken, sqlTokens, tokenName } from "./sql-tokens.js";

/** What `recreateTable` builds. */
export interface RecreateTableSpec {
  /** The table to rebuild; it keeps its name. */
  table: string;
  /** The new column definitions and table constraints: the text between the parentheses of `CREATE TABLE`. */
  definition: string;
  /** What follows the parentheses, e.g. `STRICT` or `WITHOUT ROWID`. */
  options?: string;
  /**
   * New column → SQL expression over the old table's columns, e.g.
   * `{ email: "lower(email)", name: "coalesce(name, '')" }`. Default: every
   * (non-generated) column the old and new definitions share, copied as it is.
   */
  copy?: Readonly<Record<string, string>>;
  /** Indexes, triggers and views (by name) not to recreate, e.g. those on a dropped column. */
  drop?: readonly string[];
}

const CONSTRAINT_WORDS = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);

interface NewColumn {
  name: string;
  generated: boolean;
}

/** Column names of a definition: the first token of each top-level, comma-separated part that is not a table constraint. */
function definedColumns(definition: string): NewColumn[] {
  const parts: SqlToken[][] = [[]];
  let depth = 0;
  for (const token of sqlTokens(definition)) {
    if (token.text === "(") depth++;
    if (token.text === ")") depth--;
    if (depth === 0 && token.text === ",") parts.push([]);
    else (parts[parts.length - 1] as SqlToken[]).push(token);
  }
  const columns: NewColumn[] = [];
  for (const part of parts) {
    const first = part[0];
    if (!first || (first.kind === "word" && CONSTRAINT_WORDS.has(first.text.toUpperCase()))) continue;
    let level = 0;
    let generated = false;
    for (const token of part) {
      if (token.text === "(") level++;
      if (token.text === ")") level--;
      const word = token.kind === "word" ? token.text.toUpperCase() : "";
      if (level === 0 && (word === "GENERATED" || word === "AS")) generated = true;
    }
    columns.push({ name: tokenName(first), generated });
  }
  return columns;
}

interface SchemaObject {
  type: string;
  name: string;
  table: string;
  sql: string;
}

/** True if `sql` names any of `names` (case-insensitively) as a word or quoted name. */
function mentions(sql: string, names: ReadonlySet<string>): boolean {
  return sqlTokens(sql).some(
    (t) => (t.kind === "word" || t.kind === "quoted" || t.kind === "string") && names.has(tokenName(t).toLowerCase()),
  );
}

/**
 * SQLite's table-recreation procedure (sqlite.org/lang_altertable.html, "Making
 * other kinds of table schema changes") for changes `ALTER TABLE` cannot make:
 * create the new table under a temporary name, copy the rows, drop the old
 * table, rename the new one, and recreate the table's indexes and triggers.
 * Views and other tables' triggers that mention the table are dropped first
 * and recreated after, since the rename checks them against the schema.
 * Run it as a migration (foreign keys are off, and checked before commit), or
 * pass its statements to `client.migrate()`.
 *
 * @example
 * await migrate(client, [
 *   { version: 4, name: "users: email NOT NULL", up: recreateTable({
 *       table: "users",
 *       definition: "id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT",
 *       copy: { id: "id", email: "coalesce(email, id || '@unknown')", name: "name" },
 *   }) },
 * ]);
 */
export function recreateTable(spec: RecreateTableSpec): MigrationPlan {
  if (typeof spec?.table !== "string" || typeof spec.definition !== "string") {
    throw new TypeError("recreateTable needs a table name and a definition");
  }
  const table = quoteIdentifier(spec.table);
  const temporary = quoteIdentifier(`__new_${spec.table}`);
  const keep = (name: string) => !(spec.drop ?? []).some((d) => d.toLowerCase() === name.toLowerCase());
  return {
    async plan(db: Pick<Executor, "execute">): Promise<InStatement[]> {
      const info = await db.execute({ sql: "SELECT name, hidden FROM pragma_table_xinfo(?)", args: [spec.table] });
      if (info.rows.length === 0) {
        throw new MigrationError(`recreateTable: there is no table named ${table}`, "MIGRATION_INVALID");
      }
      const old = new Map(
        info.rows.filter((r) => Number(r.hidden) === 0).map((r) => [String(r.name).toLowerCase(), String(r.name)]),
      );
      const copy: Array<[string, string]> = spec.copy
        ? Object.entries(spec.copy)
        : definedColumns(spec.definition)
            .filter((c) => !c.generated && old.has(c.name.toLowerCase()))
            .map((c) => [c.name, quoteIdentifier(old.get(c.name.toLowerCase()) as string)]);
      if (copy.length === 0) {
        throw new MigrationError(
          `recreateTable: the new definition of ${table} shares no column with the old one; say what to copy with \`copy\``,
          "MIGRATION_INVALID",
        );
      }

      const schema = await db.execute(
        "SELECT type, name, tbl_name AS tbl, sql FROM sqlite_schema WHERE sql IS NOT NULL AND type IN ('index', 'trigger', 'view') ORDER BY rowid",
      );
      const objects: SchemaObject[] = schema.rows.map((r) => ({
        type: String(r.type),
        name: String(r.name),
        table: String(r.tbl),
        sql: String(r.sql),
      }));
      const own = objects.filter((o) => o.type !== "view" && o.table.toLowerCase() === spec.table.toLowerCase());
      // Views and triggers elsewhere that name the table, or a view already chosen: the rename would reject them.
      const names = new Set([spec.table.toLowerCase()]);
      const dependent: SchemaObject[] = [];
      for (let grew = true; grew; ) {
        grew = false;
        for (const o of objects) {
          if (own.includes(o) || dependent.includes(o) || o.type === "index" || !mentions(o.sql, names)) continue;
          dependent.push(o);
          names.add(o.name.toLowerCase());
          grew = true;
        }
      }

      const options = spec.options ? ` ${spec.options}` : "";
      const restore = objects.filter((o) => (own.includes(o) || dependent.includes(o)) && keep(o.name));
      return [
        ...dependent.map((o) => `DROP ${o.type.toUpperCase()} ${quoteIdentifier(o.name)}`),
        `CREATE TABLE ${temporary} (${spec.definition})${options}`,
        `INSERT INTO ${temporary} (${copy.map(([c]) => quoteIdentifier(c)).join(", ")}) SELECT ${copy.map(([, e]) => e).join(", ")} FROM ${table}`,
        `DROP TABLE ${table}`,
        `ALTER TABLE ${temporary} RENAME TO ${table}`,
        ...restore.map((o) => o.sql),
      ];
    },
  };
}
