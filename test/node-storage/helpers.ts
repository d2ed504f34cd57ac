import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArgValue, OpenRequest, ReceivedRows, StmtResult } from "../../src/proto.js";
import { receivedArrays } from "../../src/received-rows.js";
import type { Engine } from "../../worker/engine.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { type Child, spawnTsx } from "../support/child-process.js";

export { childOutput, waitForLine } from "../support/child-process.js";

/** A fresh directory under the OS temp dir; `cleanup()` removes every one made so far. */
export function makeTempDirs(): { make(): string; cleanup(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), "libsql-web-file-"));
      dirs.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An engine connection to a `file:` database, with a small query helper. */
export interface FileDb {
  engine: Engine<ReceivedRows>;
  conn: number;
  run(sql: string, args?: ArgValue[]): Promise<StmtResult>;
  /** First column of the first row. */
  value(sql: string, args?: ArgValue[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Opens `path` through a new Node engine (a new wasm instance) with `storage: "file"`. */
export async function openFileDb(
  path: string,
  engine: Engine<ReceivedRows> = createNodeEngine(),
  busyTimeoutMs?: number,
): Promise<FileDb> {
  return connectFileDb(engine, { storage: "file", path, busyTimeoutMs });
}

/** Opens `request` through `engine`, with the query helpers of `FileDb`. */
export async function connectFileDb(engine: Engine<ReceivedRows>, request: OpenRequest): Promise<FileDb> {
  const conn = await engine.open(request);
  const run = async (sql: string, args: ArgValue[] = []) => {
    const result = await engine.execute(conn, { sql, args }, "number");
    return { ...result, rows: receivedArrays(result.rows) };
  };
  return {
    engine,
    conn,
    run,
    value: async (sql, args) => (await run(sql, args)).rows[0]?.[0],
    close: () => engine.close(conn),
  };
}

/** A prepared statement of better-sqlite3 / libsql (native), as far as the tests use it. */
export interface NativeStatement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
  /** Rows as arrays instead of objects. */
  raw(on?: boolean): NativeStatement;
}

/** The slice of the better-sqlite3 / libsql (native) API the tests use. */
export interface NativeDb {
  exec(sql: string): unknown;
  prepare(sql: string): NativeStatement;
  close(): unknown;
}

const require = createRequire(import.meta.url);

/** Native drivers to check the files against: libSQL's own, and better-sqlite3 (SQLite 3.53). */
export const nativeDrivers = ["libsql", "better-sqlite3"] as const;

/** Opens `path` with a native driver. */
export function openNative(driver: (typeof nativeDrivers)[number], path: string): NativeDb {
  const Database = require(driver) as new (path: string) => NativeDb;
  return new Database(path);
}

/** Runs test/node-storage/fixtures/file-child.ts in a new Node process (through tsx). */
export function spawnChild(args: string[]): Child {
  return spawnTsx(new URL("./fixtures/file-child.ts", import.meta.url), args);
}
