import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { nodeFileStorage } from "../../worker/storage/node-file-storage.js";
import { makeTempDirs, openFileDb } from "./helpers.js";

const temp = makeTempDirs();
afterEach(() => temp.cleanup());

/** Files this process has open that were deleted while open, with a name the VFS gives temporary files. */
function openDeletedTempFiles(): string[] {
  return readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    })
    .filter((target) => /libsql-web-[0-9a-f]{16} \(deleted\)$/.test(target));
}

/** A process that holds `<path>.lock` as a live owner for `ms` milliseconds, then removes it and exits. */
function foreignLockHolder(path: string, ms: number): Promise<number> {
  const script = `
    const fs = require("node:fs");
    fs.writeFileSync(${JSON.stringify(`${path}.lock`)}, process.pid + "\\nfeedc0de\\n" + ${JSON.stringify(hostname())} + "\\n");
    console.log("locked");
    setTimeout(() => fs.unlinkSync(${JSON.stringify(`${path}.lock`)}), ${ms});`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(child.pid as number));
    child.once("error", reject);
  });
}

describe("file storage (node:fs VFS)", () => {
  it("keeps rows across engines and leaves no journal or lock file behind", async () => {
    const path = join(temp.make(), "persist.db");
    const a = await openFileDb(path);
    await a.run("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB)");
    await a.run("BEGIN");
    for (let i = 0; i < 200; i++) await a.run("INSERT INTO t(name, data) VALUES (?, randomblob(100))", [`row ${i}`]);
    await a.run("COMMIT");
    await a.run("INSERT INTO t(name) VALUES ('autocommit')");
    await a.close();
    expect(existsSync(`${path}-journal`)).toBe(false);
    expect(existsSync(`${path}.lock`)).toBe(false);

    const b = await openFileDb(path);
    expect(await b.value("SELECT count(*) FROM t")).toBe(201);
    expect(await b.value("SELECT name FROM t WHERE id = 7")).toBe("row 6");
    expect(await b.value("PRAGMA integrity_check")).toBe("ok");
    await b.close();
  });

  it("gives new databases 4096-byte pages and the default journal mode", async () => {
    const path = join(temp.make(), "pages.db");
    const db = await openFileDb(path);
    await db.run("CREATE TABLE t(x)");
    expect(await db.value("PRAGMA page_size")).toBe(4096);
    expect(await db.value("PRAGMA journal_mode")).toBe("delete");
    expect(statSync(path).size).toBe(8192);
    await db.close();
  });

  it("keys databases by their absolute path", () => {
    expect(nodeFileStorage.key("some/dir/../x.db")).toBe(resolve("some/x.db"));
    expect(nodeFileStorage.key("/abs/x.db")).toBe("/abs/x.db");
  });

  it("names journal and lock after the real file when opened through a symbolic link", async () => {
    const dir = temp.make();
    const real = join(dir, "real.db");
    const link = join(dir, "link.db");
    const db = await openFileDb(real);
    await db.run("CREATE TABLE t(x)");
    await db.close();
    symlinkSync(real, link);
    const viaLink = await openFileDb(link);
    await viaLink.run("BEGIN");
    await viaLink.run("INSERT INTO t VALUES (1)");
    expect(existsSync(`${real}-journal`)).toBe(true);
    expect(existsSync(`${real}.lock`)).toBe(true);
    expect(existsSync(`${link}-journal`)).toBe(false);
    await viaLink.run("COMMIT");
    await viaLink.close();
  });

  it("reports a directory that does not exist as SQLITE_CANTOPEN", async () => {
    const path = join(temp.make(), "missing", "x.db");
    await expect(openFileDb(path)).rejects.toMatchObject({ code: "SQLITE_CANTOPEN" });
  });

  it.runIf(process.platform === "linux")("puts temporary files on disk, unlinked while open", async () => {
    const db = await openFileDb(join(temp.make(), "temp.db"));
    await db.run("PRAGMA temp_store=FILE");
    await db.run("CREATE TEMP TABLE scratch(x)");
    // A small cache makes the temporary database spill its pages into its file.
    await db.run("PRAGMA temp.cache_size=10");
    await db.run(
      "INSERT INTO scratch WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000) SELECT randomblob(1000) FROM s",
    );
    expect(await db.value("SELECT count(*) FROM scratch")).toBe(1000);
    expect(openDeletedTempFiles().length).toBeGreaterThan(0);
    await db.close();
    expect(openDeletedTempFiles()).toEqual([]);
  });

  it("rolls back a journal a crashed writer left behind (xCheckReservedLock says no one holds RESERVED)", async () => {
    const dir = temp.make();
    const path = join(dir, "live.db");
    const db = await openFileDb(path);
    await db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB)");
    await db.run("BEGIN");
    for (let i = 0; i < 500; i++) await db.run("INSERT INTO t(payload) VALUES (randomblob(300))");
    await db.run("COMMIT");
    const committed = readFileSync(path);

    await db.run("PRAGMA cache_size=10");
    await db.run("BEGIN");
    await db.run("UPDATE t SET payload = randomblob(400)");
    for (let i = 0; i < 1000; i++) await db.run("INSERT INTO t(payload) VALUES (randomblob(400))");
    // What a crash at this moment leaves on disk: a half-written database and its journal.
    expect(existsSync(`${path}-journal`)).toBe(true);
    expect(readFileSync(path).equals(committed)).toBe(false);
    const crashed = join(dir, "crashed.db");
    copyFileSync(path, crashed);
    copyFileSync(`${path}-journal`, `${crashed}-journal`);
    await db.run("ROLLBACK");
    await db.close();

    const reopened = await openFileDb(crashed);
    expect(await reopened.value("SELECT count(*) FROM t")).toBe(500);
    expect(await reopened.value("PRAGMA integrity_check")).toBe("ok");
    await reopened.close();
    expect(existsSync(`${crashed}-journal`)).toBe(false);
    expect(readFileSync(crashed).equals(committed)).toBe(true);
  });

  it("lets a second engine in this process read beside a writer, and not roll back its live journal", async () => {
    const path = join(temp.make(), "two-engines.db");
    const a = await openFileDb(path);
    await a.run("CREATE TABLE t(x)");
    await a.run("INSERT INTO t VALUES (1)");
    // Without syncs SQLite writes the journal's header at once, so the journal looks hot unless someone holds RESERVED.
    await a.run("PRAGMA synchronous=OFF");
    await a.run("BEGIN");
    await a.run("INSERT INTO t VALUES (2)");
    expect(readFileSync(`${path}-journal`).subarray(0, 8)).toEqual(Buffer.from("d9d505f920a163d7", "hex"));

    const b = await openFileDb(path);
    // The journal is live (a holds RESERVED), so b reads the committed state and leaves it alone.
    expect(await b.value("SELECT count(*) FROM t")).toBe(1);
    await a.run("COMMIT");
    expect(await b.value("SELECT count(*) FROM t")).toBe(2);
    await a.close();
    await b.close();
  });

  it("fails a second engine's write at once while another engine in this process writes", async () => {
    const path = join(temp.make(), "busy-here.db");
    const a = await openFileDb(path);
    const b = await openFileDb(path);
    await a.run("CREATE TABLE t(x)");
    await a.run("BEGIN IMMEDIATE");
    await a.run("INSERT INTO t VALUES (1)");
    const started = performance.now();
    const error = await b.run("INSERT INTO t VALUES (2)").catch((e: unknown) => e);
    // Sleeping could not help: the holder runs on this very thread.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(LibsqlError);
    expect(error).toMatchObject({ code: "SQLITE_BUSY" });
    await a.run("COMMIT");
    await b.run("INSERT INTO t VALUES (2)");
    expect(await a.value("SELECT count(*) FROM t")).toBe(2);
    await a.close();
    await b.close();
  });

  it("breaks a lock whose owner process is dead", async () => {
    const path = join(temp.make(), "stale.db");
    const db = await openFileDb(path);
    await db.run("CREATE TABLE t(x)");
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.once("exit", resolve));
    writeFileSync(`${path}.lock`, `${dead.pid}\nabc\n${hostname()}\n`);
    await db.run("INSERT INTO t VALUES (1)");
    expect(await db.value("SELECT count(*) FROM t")).toBe(1);
    expect(existsSync(`${path}.lock`)).toBe(false);
    await db.close();
  });

  it("waits for a live process's lock (busy timeout) and goes on once it is released", async () => {
    const path = join(temp.make(), "wait.db");
    const db = await openFileDb(path);
    await db.run("CREATE TABLE t(x)");
    await foreignLockHolder(path, 400);
    const started = performance.now();
    await db.run("INSERT INTO t VALUES (1)");
    expect(performance.now() - started).toBeGreaterThan(250);
    expect(await db.value("SELECT count(*) FROM t")).toBe(1);
    await db.close();
  });

  it("gives up with SQLITE_BUSY after the busy timeout when another realm of this process keeps the lock", async () => {
    const path = join(temp.make(), "timeout.db");
    const db = await openFileDb(path, createNodeEngine(), 400);
    await db.run("CREATE TABLE t(x)");
    // This process's PID with a token no lock here owns: a worker thread's lock, alive by definition.
    writeFileSync(`${path}.lock`, `${process.pid}\nother-realm\n${hostname()}\n`);
    const started = performance.now();
    await expect(db.run("SELECT count(*) FROM t")).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(350);
    expect(waited).toBeLessThan(3000);
    await db.close();
  });

  it("opens a database in a memory engine and a file engine side by side", async () => {
    const engine = createNodeEngine();
    const file = await openFileDb(join(temp.make(), "side.db"), engine);
    const memory = await engine.open({ storage: "memory", path: ":memory:" });
    await file.run("CREATE TABLE t(x)");
    await engine.execute(memory, { sql: "CREATE TABLE m(x)" }, "number");
    expect(await file.value("SELECT count(*) FROM sqlite_schema")).toBe(1);
    await engine.close(memory);
    await file.close();
  });
});
