import type { Database } from "../database.js";

const DENY = 1;

// Authorizer action codes (sqlite3.h).
const CREATE_INDEX = 1;
const CREATE_TABLE = 2;
const CREATE_TRIGGER = 7;
const CREATE_VIEW = 8;
const DELETE = 9;
const DROP_INDEX = 10;
const DROP_TABLE = 11;
const DROP_TRIGGER = 16;
const DROP_VIEW = 17;
const INSERT = 18;
const PRAGMA = 19;
const UPDATE = 23;
const ALTER_TABLE = 26;
const REINDEX = 27;
const ANALYZE = 28;
const CREATE_VTABLE = 29;
const DROP_VTABLE = 30;

const SCHEMA_CHANGES = new Map([
  [CREATE_INDEX, "CREATE INDEX"],
  [CREATE_TABLE, "CREATE TABLE"],
  [CREATE_TRIGGER, "CREATE TRIGGER"],
  [CREATE_VIEW, "CREATE VIEW"],
  [DROP_INDEX, "DROP INDEX"],
  [DROP_TABLE, "DROP TABLE"],
  [DROP_TRIGGER, "DROP TRIGGER"],
  [DROP_VIEW, "DROP VIEW"],
  [ALTER_TABLE, "ALTER TABLE"],
  [REINDEX, "REINDEX"],
  [ANALYZE, "ANALYZE"],
  [CREATE_VTABLE, "CREATE VIRTUAL TABLE"],
  [DROP_VTABLE, "DROP TABLE (virtual)"],
]);

/** Pragmas that change the database file rather than the connection. */
const PERSISTENT_PRAGMAS = new Set([
  "application_id",
  "auto_vacuum",
  "encoding",
  "incremental_vacuum",
  "journal_mode",
  "page_size",
  "schema_version",
  "user_version",
  "writable_schema",
]);

/** Why the last write on each guarded handle was refused. */
const refusals = new Map<number, string>();

/**
 * Guards a replica's working copy: offline writes are pushed as the session
 * extension's changes, which exist only for rows of ordinary tables with a
 * PRIMARY KEY, and carry no schema. So an authorizer refuses, at prepare time,
 * writes to tables without a key (or to virtual tables, or other databases than
 * `main` and `temp`), schema changes, and pragmas that change the file; the
 * reason is kept for `refusal()`. Call again after the copy was replaced (its
 * tables may have changed).
 */
export function guardOfflineWrites(db: Database): void {
  const keyed = keyedTables(db);
  const capi = db.sqlite.module.capi as unknown as {
    sqlite3_set_authorizer(
      db: number,
      callback: (p: number, code: number, s0: string | 0, s1: string | 0, s2: string | 0, s3: string | 0) => number,
      user: number,
    ): number;
  };
  const refuse = (why: string): number => {
    refusals.set(db.ptr, why);
    return DENY;
  };
  const rc = capi.sqlite3_set_authorizer(
    db.ptr,
    (_p, code, s0, s1, s2) => {
      if (code === INSERT || code === UPDATE || code === DELETE) {
        const table = String(s0 || "");
        const schema = String(s2 || "main");
        if (schema === "temp" || table === "sqlite_sequence") return 0;
        if (table === "sqlite_master" || table === "sqlite_schema") {
          return refuse("offline writes cannot change the schema: run schema changes online");
        }
        if (schema !== "main") return refuse(`offline writes cannot change the attached database "${schema}"`);
        if (!keyed.has(table)) {
          return refuse(
            `offline writes can only change ordinary tables with a PRIMARY KEY, and "${table}" is not one: write to it online`,
          );
        }
        return 0;
      }
      const change = SCHEMA_CHANGES.get(code);
      if (change) return refuse(`offline writes cannot change the schema (${change}): run schema changes online`);
      if (code === PRAGMA && s1 && PERSISTENT_PRAGMAS.has(String(s0).toLowerCase())) {
        return refuse(`offline writes cannot set PRAGMA ${String(s0)}`);
      }
      return 0;
    },
    0,
  );
  if (rc !== 0) throw db.sqlite.error(db.ptr, rc);
}

/** Why the last write on the handle was refused by its guard, if one was; forgets it. */
export function takeRefusal(db: Database): string | undefined {
  const why = refusals.get(db.ptr);
  refusals.delete(db.ptr);
  return why;
}

/** Names of the ordinary tables of `main` that have a PRIMARY KEY (what the session extension tracks). */
export function keyedTables(db: Database): Set<string> {
  const result = db
    .statement(
      "SELECT s.name FROM sqlite_schema AS s WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND s.sql NOT LIKE 'CREATE VIRTUAL %' AND EXISTS (SELECT 1 FROM pragma_table_info(s.name) AS c WHERE c.pk > 0)",
    )
    .run(undefined, "number");
  return new Set(result.rows.map((row) => String(row[0])));
}
