import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDirs, type NativeDb, nativeDrivers, openFileDb, openNative } from "./helpers.js";

const temp = makeTempDirs();
afterEach(() => temp.cleanup());

const ROWS = 500;

/** Row i as every driver should read it back: [id, int, real, text, blob as hex, null]. */
function expectedRow(i: number): unknown[] {
  return [
    i,
    i * 1000003,
    i / 7,
    `row ${i} – ünïcødé ✓`,
    Buffer.from([i & 0xff, (i >> 8) & 0xff, 0, 255])
      .toString("hex")
      .toUpperCase(),
  ];
}

const selectAll = "SELECT id, n, r, s, hex(b), z FROM t ORDER BY id";

function nativeRows(db: NativeDb, sql = selectAll): unknown[][] {
  return db.prepare(sql).raw(true).all() as unknown[][];
}

function nativeValue(db: NativeDb, sql: string): unknown {
  return (db.prepare(sql).raw(true).get() as unknown[])[0];
}

function fillNative(db: NativeDb): void {
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, r REAL, s TEXT, b BLOB, z); CREATE INDEX t_s ON t(s)");
  db.exec("BEGIN");
  const insert = db.prepare("INSERT INTO t(id, n, r, s, b, z) VALUES (?, ?, ?, ?, ?, NULL)");
  for (let i = 1; i <= ROWS; i++) {
    const [id, n, r, s] = expectedRow(i);
    insert.run(id, n, r, s, Buffer.from([i & 0xff, (i >> 8) & 0xff, 0, 255]));
  }
  db.exec("COMMIT");
}

describe("file databases shared with native SQLite", () => {
  it.each(nativeDrivers)("a database written by libsql-web opens in %s", async (driver) => {
    const path = join(temp.make(), "web.db");
    const web = await openFileDb(path);
    await web.run("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, r REAL, s TEXT, b BLOB, z)");
    await web.run("CREATE INDEX t_s ON t(s)");
    await web.run("BEGIN");
    for (let i = 1; i <= ROWS; i++) {
      const [id, n, r, s] = expectedRow(i) as [number, number, number, string];
      await web.run("INSERT INTO t(id, n, r, s, b, z) VALUES (?, ?, ?, ?, ?, NULL)", [
        id,
        n,
        r,
        s,
        new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0, 255]),
      ]);
    }
    await web.run("COMMIT");
    await web.run("DELETE FROM t WHERE id > ?", [ROWS]);
    await web.close();

    const native = openNative(driver, path);
    try {
      expect(nativeValue(native, "PRAGMA integrity_check")).toBe("ok");
      expect(nativeValue(native, "PRAGMA page_size")).toBe(4096);
      expect(nativeRows(native)).toEqual(Array.from({ length: ROWS }, (_, k) => [...expectedRow(k + 1), null]));
      expect(nativeValue(native, "SELECT count(*) FROM t INDEXED BY t_s WHERE s LIKE 'row 1%'")).toBe(111);
    } finally {
      native.close();
    }
  });

  it.each(nativeDrivers)("a database written by %s opens, changes and reads back natively", async (driver) => {
    const path = join(temp.make(), "native.db");
    const before = openNative(driver, path);
    fillNative(before);
    before.close();

    const web = await openFileDb(path);
    expect((await web.run(selectAll)).rows).toEqual(
      Array.from({ length: ROWS }, (_, k) => [...expectedRow(k + 1), null]),
    );
    await web.run("UPDATE t SET s = 'changed' WHERE id % 10 = 0");
    await web.run("DELETE FROM t WHERE id > 400");
    await web.run("INSERT INTO t(id, n, s) VALUES (1000, 1, 'from libsql-web')");
    await web.run("CREATE TABLE added(x)");
    await web.close();

    const after = openNative(driver, path);
    try {
      expect(nativeValue(after, "PRAGMA integrity_check")).toBe("ok");
      expect(nativeValue(after, "SELECT count(*) FROM t")).toBe(401);
      expect(nativeValue(after, "SELECT count(*) FROM t WHERE s = 'changed'")).toBe(40);
      expect(nativeValue(after, "SELECT s FROM t WHERE id = 1000")).toBe("from libsql-web");
      expect(nativeRows(after, "SELECT id, n, r, s, hex(b), z FROM t WHERE id = 7")).toEqual([
        [...expectedRow(7), null],
      ]);
      expect(nativeValue(after, "SELECT count(*) FROM sqlite_schema WHERE name = 'added'")).toBe(1);
    } finally {
      after.close();
    }
  });

  it.each(nativeDrivers)("a WAL-mode database written by %s opens, with frames not yet in the file", async (driver) => {
    const dir = temp.make();
    const path = join(dir, "wal.db");
    const copy = join(dir, "copy.db");
    const native = openNative(driver, path);
    try {
      // exec only: libsql's close() leaves the connection open while statement objects live.
      native.exec("PRAGMA journal_mode=WAL");
      native.exec(
        `CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT);
         INSERT INTO t(s) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS})
         SELECT 'row ' || i FROM c`,
      );
      // A snapshot taken while the writer is open: the rows live only in the WAL.
      copyFileSync(path, copy);
      copyFileSync(`${path}-wal`, `${copy}-wal`);
    } finally {
      native.close();
    }

    expect(statSync(`${copy}-wal`).size).toBeGreaterThan(0);
    const web = await openFileDb(copy);
    expect(await web.value("SELECT count(*) FROM t")).toBe(ROWS);
    await web.run("INSERT INTO t(s) VALUES ('from libsql-web')");
    expect(await web.value("PRAGMA journal_mode")).toBe("wal");
    await web.close();

    const after = openNative(driver, copy);
    try {
      expect(nativeValue(after, "PRAGMA integrity_check")).toBe("ok");
      expect(nativeValue(after, "SELECT count(*) FROM t")).toBe(ROWS + 1);
      expect(nativeValue(after, `SELECT s FROM t WHERE id = ${ROWS + 1}`)).toBe("from libsql-web");
    } finally {
      after.close();
    }
  });
});
