import { describe, expect, it } from "vitest";
import { isReadOnlySql } from "../../src/remote/read-only-sql.js";

describe("isReadOnlySql (what a retry may repeat)", () => {
  const cases: Array<[string, boolean]> = [
    ["SELECT 1", true],
    ["  -- a comment\n select * from t /* x */ ;  ", true],
    ["VALUES (1), (2)", true],
    ["EXPLAIN INSERT INTO t VALUES (1)", true],
    ["WITH x AS (SELECT 1) SELECT * FROM x", true],
    ["SELECT 'insert into t values (1)', \"update\" FROM [delete]", true],
    ["BEGIN IMMEDIATE", true],
    ["COMMIT", true],
    ["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", false],
    ["WITH x AS (SELECT 1) DELETE FROM t", false],
    ["INSERT INTO t VALUES (1)", false],
    ["UPDATE t SET x = 1", false],
    ["REPLACE INTO t VALUES (1)", false],
    ["CREATE TABLE t(x)", false],
    ["PRAGMA user_version = 3", false],
    ["SELECT 1; INSERT INTO t VALUES (1)", false],
    ["SELECT 'unterminated", false],
    ["", false],
    ["   -- only a comment", false],
  ];
  for (const [sql, readOnly] of cases) {
    it(`${readOnly ? "repeats" : "never repeats"} ${JSON.stringify(sql)}`, () => {
      expect(isReadOnlySql(sql)).toBe(readOnly);
    });
  }
});
