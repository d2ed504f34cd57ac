import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { openHandle } from "../../worker/sqlite/open-handle.js";
import { Sqlite } from "../../worker/sqlite/sqlite.js";
import { installLockTrackingVfs } from "../../worker/vfs/lock-tracking-vfs.js";
import { installWrappingVfs, type WrappingVfs } from "../../worker/vfs/wrapping-vfs.js";

// The Node build's default VFS keeps files in Emscripten's in-memory file system.
const BASE = "unix-none";
let sqlite: Sqlite;

beforeAll(async () => {
  sqlite = new Sqlite(await loadNodeSqlite("optimized"));
});

function exec(db: number, sql: string): void {
  sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
}

function one(db: number, sql: string): number {
  const { x, out } = sqlite;
  sqlite.check(db, x.sqlite3_prepare_v2(db, sqlite.encode(sql), -1, out, 0));
  const stmt = sqlite.i32[out >> 2] as number;
  try {
    expect(x.sqlite3_step(stmt)).toBe(100);
    return x.sqlite3_column_double(stmt, 0);
  } finally {
    x.sqlite3_finalize(stmt);
  }
}

const SQLITE_FCNTL_FILE_POINTER = 7;

/** What the database file of `db` answers to `xCheckReservedLock`, asked directly. */
function reservedFor(db: number): number {
  const { x, out } = sqlite;
  const wasm = (sqlite.module as unknown as { wasm: { functionEntry(p: number): (...a: number[]) => number } }).wasm;
  sqlite.check(db, x.sqlite3_file_control(db, sqlite.encode("main"), SQLITE_FCNTL_FILE_POINTER, out));
  const pFile = sqlite.i32[out >> 2] as number;
  const methods = sqlite.i32[pFile >> 2] as number;
  const xCheckReservedLock = sqlite.i32[(methods + 36) >> 2] as number;
  expect(wasm.functionEntry(xCheckReservedLock)(pFile, out + 4)).toBe(0);
  return sqlite.i32[(out + 4) >> 2] as number;
}

describe("wrapping VFS", () => {
  const vfses: WrappingVfs[] = [];
  afterAll(() => {
    for (const vfs of vfses) vfs.dispose();
  });

  it("forwards to the wrapped VFS and calls the hooks with the file they concern", () => {
    const calls: string[] = [];
    const vfs = installWrappingVfs<{ opened: string }>(sqlite, {
      name: "test-wrap",
      base: BASE,
      hooks: {
        open: (file) => ({ opened: file.name }),
        close: (file) => calls.push(`close ${file.state.opened}`),
        xRead: (file, p, n, offset) => {
          calls.push("read");
          return file.base.xRead(p, n, offset);
        },
        xWrite: (file, p, n, offset) => {
          calls.push(`write ${typeof offset}`);
          return file.base.xWrite(p, n, offset);
        },
        xLock: (file, level) => {
          calls.push(`lock ${level}`);
          return file.base.xLock(level);
        },
      },
    });
    vfses.push(vfs);
    const db = openHandle(sqlite, "/wrap.db", vfs.name);
    exec(db, "PRAGMA cache_size=2; CREATE TABLE t(v); BEGIN;");
    exec(db, "INSERT INTO t SELECT randomblob(3000) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4)");
    exec(db, "COMMIT");
    expect(one(db, "SELECT count(*) FROM t")).toBe(4);
    expect(vfs.openFiles).toBe(1);
    expect(() => vfs.dispose()).toThrow(/open file/);
    sqlite.x.sqlite3_close_v2(db);
    expect(vfs.openFiles).toBe(0);
    expect(calls).toContain("write bigint");
    expect(calls).toContain("lock 1");
    expect(calls).toContain("close /wrap.db");
    expect(calls).toContain("close /wrap.db-journal");
  });

  it("answers xCheckReservedLock from the locks other handles hold on the same file", () => {
    const vfs = installLockTrackingVfs(sqlite, { name: "test-locks", base: BASE });
    vfses.push(vfs);
    const writer = openHandle(sqlite, "/locks.db", vfs.name);
    const reader = openHandle(sqlite, "/locks.db", vfs.name);
    exec(writer, "CREATE TABLE t(v); INSERT INTO t VALUES (1);");
    expect([reservedFor(writer), reservedFor(reader)]).toEqual([0, 0]);
    exec(writer, "BEGIN IMMEDIATE; INSERT INTO t VALUES (2);");
    // The writer holds RESERVED: locked for the reader, not for the writer itself.
    expect([reservedFor(writer), reservedFor(reader)]).toEqual([0, 1]);
    // So the writer's journal is not hot for the reader, who reads the committed state.
    expect(one(reader, "SELECT count(*) FROM t")).toBe(1);
    exec(writer, "COMMIT");
    expect([reservedFor(writer), reservedFor(reader)]).toEqual([0, 0]);
    expect(one(reader, "SELECT count(*) FROM t")).toBe(2);
    sqlite.x.sqlite3_close_v2(writer);
    sqlite.x.sqlite3_close_v2(reader);
  });

  it("refuses a taken name and an unknown base", () => {
    expect(() => installWrappingVfs(sqlite, { name: BASE, base: BASE, hooks: { open: () => null } })).toThrow(
      /already registered/,
    );
    expect(() => installWrappingVfs(sqlite, { name: "x", base: "no-such-vfs", hooks: { open: () => null } })).toThrow(
      /no VFS named/,
    );
  });
});
