import { createRequire } from "node:module";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import type { HranaTestServer } from "../server/hrana-server.js";
import { startTestServer } from "../server/hrana-server.js";
import { parameterNames, SqlLexError, splitStatements, statementKind, tokenizeSql } from "../server/sql-lexer.js";
import { ok, pipeline } from "./helpers.js";

/**
 * The native package cannot tell parameter names, statement boundaries or read-only-ness,
 * so the server derives them (sql-lexer.ts, execute.ts). These tests hold the derivation
 * to SQLite itself: the project's wasm engine reads parameter names from real prepared
 * statements, and better-sqlite3 gives `sqlite3_column_decltype` and
 * `sqlite3_stmt_readonly`.
 *
 * The engine is not asked about EXPLAIN statements: its declared-type reader walks past
 * the Vdbe's column array for them (SQLite itself gives EXPLAIN columns no declared type),
 * returning garbage or scanning memory without end.
 */

interface BetterSqlite3Statement {
  readonly: boolean;
  reader: boolean;
  columns(): { name: string; type: string | null }[];
}
interface BetterSqlite3Database {
  exec(sql: string): void;
  prepare(sql: string): BetterSqlite3Statement;
  close(): void;
}
const BetterSqlite3 = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => BetterSqlite3Database;

const SCHEMA = [
  "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL)",
  "CREATE TABLE u(a, b)",
  "CREATE VIEW tv AS SELECT id, name FROM t",
  "CREATE INDEX t_name ON t(name)",
];

let engine: ReturnType<typeof createNodeEngine>;
let conn: number;
let server: HranaTestServer;
let reference: BetterSqlite3Database;

beforeAll(async () => {
  engine = createNodeEngine();
  conn = await engine.open({ storage: "memory", path: "" });
  for (const sql of SCHEMA) await engine.execute(conn, { sql }, "number");
  reference = new BetterSqlite3(":memory:");
  for (const sql of SCHEMA) reference.exec(sql);
  server = await startTestServer();
  await pipeline(
    server,
    null,
    SCHEMA.map((sql) => ({ type: "execute", stmt: { sql } })),
  );
});

afterAll(async () => {
  await engine?.close(conn);
  await server?.close();
  reference?.close();
});

/** SQLite's parameter names for a statement (never an EXPLAIN one, see above). */
async function oracle(sql: string): Promise<(string | null)[]> {
  return (await engine.describe(conn, sql)).params;
}

function lexedParams(sql: string): (string | null)[] {
  const [statement] = splitStatements(sql);
  return parameterNames(statement?.tokens ?? []);
}

describe("statement splitting", () => {
  test.each([
    ["SELECT 1", ["SELECT 1"]],
    ["SELECT 1;", ["SELECT 1"]],
    ["  ;; SELECT 1 ; ; SELECT 2 -- done", ["SELECT 1", "SELECT 2"]],
    [
      "SELECT ';' AS \"a;b\", [c;d], `e;f` FROM t; SELECT 2",
      ["SELECT ';' AS \"a;b\", [c;d], `e;f` FROM t", "SELECT 2"],
    ],
    ["SELECT 1 /* ; */; SELECT 'it''s;'", ["SELECT 1", "SELECT 'it''s;'"]],
    ["-- only a comment; really\n", []],
    ["/* unterminated comment runs to the end; SELECT 2", []],
    [
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET a = 1; SELECT CASE WHEN 1 THEN 2 END; END; SELECT 3",
      ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET a = 1; SELECT CASE WHEN 1 THEN 2 END; END", "SELECT 3"],
    ],
    [
      "CREATE TEMP TRIGGER tr2 BEFORE DELETE ON t BEGIN SELECT 1; END",
      ["CREATE TEMP TRIGGER tr2 BEFORE DELETE ON t BEGIN SELECT 1; END"],
    ],
    [
      "EXPLAIN CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 4",
      ["EXPLAIN CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END", "SELECT 4"],
    ],
    ["SELECT 1 AS end; SELECT 2", ["SELECT 1 AS end", "SELECT 2"]],
  ])("%j", (sql, expected) => {
    expect(splitStatements(sql).map((s) => s.text)).toEqual(expected);
  });

  test("unterminated literals are lexical errors", () => {
    for (const sql of ["SELECT 'open", 'SELECT "open', "SELECT `open", "SELECT [open"]) {
      expect(() => tokenizeSql(sql)).toThrow(SqlLexError);
    }
  });

  test("every piece of a split script prepares as one statement in SQLite", async () => {
    const script =
      "CREATE TABLE IF NOT EXISTS s(x); INSERT INTO s VALUES ('a;b'); CREATE TRIGGER IF NOT EXISTS s_t AFTER INSERT ON s BEGIN SELECT CASE WHEN new.x THEN 1 END; END; SELECT * FROM s";
    for (const statement of splitStatements(script)) {
      await engine.execute(conn, { sql: statement.text }, "number");
    }
  });
});

describe("statement kinds", () => {
  test.each([
    ["SELECT 1", false, false, false],
    ["INSERT INTO t(name) VALUES ('x')", false, true, true],
    ["insert or replace into t(name) values ('x')", false, true, true],
    ["REPLACE INTO t(name) VALUES ('x')", false, true, true],
    ["WITH x(a) AS (SELECT 1), y AS (SELECT (SELECT 2)) INSERT INTO u SELECT a, a FROM x", false, true, true],
    [
      "WITH RECURSIVE x(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM x WHERE a < 3) SELECT * FROM x",
      false,
      false,
      false,
    ],
    ["WITH d AS (SELECT 1) DELETE FROM t WHERE id IN d", false, false, true],
    ["UPDATE t SET name = 'y'", false, false, true],
    ["DELETE FROM t", false, false, true],
    ["EXPLAIN INSERT INTO t(name) VALUES ('x')", true, false, false],
    ["CREATE TABLE z(a)", false, false, false],
  ])("%s", (sql, isExplain, isInsert, isIud) => {
    const [statement] = splitStatements(sql);
    expect(statementKind(statement?.tokens ?? [])).toEqual({ isExplain, isInsert, isIud });
  });
});

describe("parameter names match sqlite3_bind_parameter_name", () => {
  test.each([
    "SELECT ?, ?, ?",
    "SELECT ?1, ?, ?1",
    "SELECT ?, ?1",
    "SELECT ?3, ?, :a, ?2",
    "SELECT :a, @a, $a, :a, #a",
    "SELECT :a, ?1, ?2, :b",
    "SELECT $a::b, $a::b(c), $c(d) IS NULL",
    "SELECT :ü, :a$b, :_1, ?10",
    'SELECT \'?\', "?x" FROM (SELECT 1 AS "?x") WHERE ? /* :c */ -- ?\n AND :d',
    "SELECT x'3f', [?] FROM (SELECT 1 AS [?]) WHERE ? OR 1",
    "SELECT * FROM t WHERE id IN (SELECT ? UNION SELECT :p) LIMIT ? OFFSET ?",
    "INSERT INTO u VALUES (?, ?) ON CONFLICT DO NOTHING",
    "UPDATE t SET name = :name, v = ?5 WHERE id = @id RETURNING ?",
  ])("%s", async (sql) => {
    expect(lexedParams(sql)).toEqual(await oracle(sql));
  });

  test("generated statements", async () => {
    const name = fc.constantFrom("a", "b", "ab", "_x", "ü", "a1", "a$b", "Z");
    const expr = fc.oneof(
      fc.constant("?"),
      fc.integer({ min: 1, max: 6 }).map((n) => `?${n}`),
      fc.tuple(fc.constantFrom(":", "@", "$", "#"), name).map(([p, n]) => `${p}${n}`),
      fc.tuple(name, name).map(([a, b]) => `$${a}::${b}`),
      fc.tuple(name, name).map(([a, b]) => `$${a}(${b})`),
      fc.constantFrom("'?:x @y'", "x'3f'", "1 /* ?1 :c */", "2 -- ?\n", "NULL"),
    );
    const subselect = fc.array(expr, { minLength: 1, maxLength: 3 }).map((xs) => `(SELECT ${xs.join(" + ")})`);
    const item = fc.tuple(fc.oneof(expr, subselect), fc.constantFrom("", ' AS "?:q"', " AS [?]"));
    const sql = fc
      .array(item, { minLength: 1, maxLength: 8 })
      .map((items) => `SELECT ${items.map(([e, alias]) => e + alias).join(", ")}`);
    await fc.assert(
      fc.asyncProperty(sql, async (text) => {
        expect(lexedParams(text)).toEqual(await oracle(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe("describe matches SQLite", () => {
  test.each([
    "SELECT * FROM t",
    "SELECT id, name AS n, v + 1, ? FROM t WHERE id = :id",
    "SELECT * FROM tv",
    "INSERT INTO t(name) VALUES (?)",
    "INSERT INTO t(name) VALUES ('a') RETURNING id, name",
    "UPDATE t SET v = 1",
    "DELETE FROM u",
    "CREATE TABLE IF NOT EXISTS z(a)",
    "DROP TABLE IF EXISTS nothing_here",
    "CREATE INDEX IF NOT EXISTS u_a ON u(a)",
    "BEGIN",
    "BEGIN DEFERRED",
    "BEGIN IMMEDIATE",
    "BEGIN EXCLUSIVE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT sp",
    "RELEASE sp",
    "PRAGMA user_version",
    "PRAGMA user_version = 3",
    "PRAGMA journal_mode",
    "PRAGMA table_info(t)",
    "PRAGMA wal_checkpoint",
    "VACUUM",
    "ANALYZE",
    "EXPLAIN SELECT * FROM t",
    "EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 1",
    "EXPLAIN INSERT INTO t(name) VALUES (?)",
    "WITH x AS (SELECT 1 AS one) SELECT * FROM x",
    "ATTACH ':memory:' AS other",
    "VALUES (1, 'a'), (2, 'b')",
  ])("%s", async (sql) => {
    const body = await pipeline(server, null, [{ type: "describe", sql }]);
    const described = ok(body.results[0]).result;
    const stmt = reference.prepare(sql);
    const columns = stmt.reader ? stmt.columns() : [];
    expect(described.cols).toEqual(columns.map((c) => ({ name: c.name, decltype: c.type })));
    expect(described.is_readonly).toBe(stmt.readonly);
    const isExplain = /^\s*EXPLAIN\b/i.test(sql);
    expect(described.is_explain).toBe(isExplain);
    if (!isExplain) expect(described.params.map((p: { name: string | null }) => p.name)).toEqual(await oracle(sql));
  });
});
