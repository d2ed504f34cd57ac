import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { closeNativeDatabase, type NativeDatabase, openNativeDatabase } from "../server/native-database.js";

/**
 * Facts about the native `libsql` binding that the server's design rests on (see
 * native-database.ts). If an upgrade of the package changes one, this fails first.
 */

let dir: string;
let path: string;
const opened: NativeDatabase[] = [];

function open(wal = false): NativeDatabase {
  const db = openNativeDatabase(path, { wal });
  opened.push(db);
  return db;
}

function count(db: NativeDatabase): unknown {
  return (db.prepare("SELECT count(*) FROM t").raw(true).all()[0] as unknown[])[0];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "native-facts-"));
  path = join(dir, "db.sqlite");
  const db = open(true);
  db.exec("CREATE TABLE t(x)");
  db.exec(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO t SELECT i FROM n",
  );
});

afterEach(() => {
  for (const db of opened.splice(0)) closeNativeDatabase(db);
  rmSync(dir, { recursive: true, force: true });
});

describe("the native libsql binding", () => {
  test("has no busy timeout: a second writer gets SQLITE_BUSY at once", () => {
    const [a, b] = [open(), open()];
    a.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    expect(() => b.exec("BEGIN IMMEDIATE")).toThrow(expect.objectContaining({ code: "SQLITE_BUSY", rawCode: 5 }));
    expect(performance.now() - started).toBeLessThan(50);
  });

  test("a partly stepped statement keeps its snapshot until iterate() is called again", () => {
    const [writer, reader] = [open(), open()];
    const stmt = reader.prepare("SELECT x FROM t").raw(true);
    const rows = stmt.iterate([]) as Iterator<unknown>;
    rows.next();
    writer.exec("INSERT INTO t VALUES ('new')");
    expect(count(reader)).toBe(300);
    stmt.iterate([]);
    expect(count(reader)).toBe(301);
  });

  test("closing with an open transaction and a live statement still releases the write lock", () => {
    const [a, b] = [open(), open()];
    a.exec("BEGIN IMMEDIATE");
    a.exec("INSERT INTO t VALUES ('rolled back')");
    const live = a.prepare("SELECT x FROM t").raw(true).iterate([]) as Iterator<unknown>;
    live.next();
    closeNativeDatabase(a);
    expect(() => b.exec("BEGIN IMMEDIATE")).not.toThrow();
    b.exec("ROLLBACK");
    expect(count(b)).toBe(300);
  });

  test("cuts bound text at U+0000 (a limitation the server inherits)", () => {
    const db = open();
    expect(db.prepare("SELECT ?").raw(true).all(["a\u0000b"])).toEqual([["a"]]);
  });
});
