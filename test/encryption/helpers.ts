import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Libsql from "libsql";
import type { EncryptionSpec, ReceivedRows } from "../../src/proto.js";
import type { Engine } from "../../worker/engine.js";
import { createNodeEngine } from "../../worker/node/node-engine.js";
import { connectFileDb, type FileDb } from "../node-storage/helpers.js";
import { type Child, spawnTsx, waitForLine } from "../support/child-process.js";

/** Clear text every test row carries, to look for in files at rest. */
export const MARKER = "PLAINTEXT-MARKER-7f3a";

/** An engine connection to an encrypted (or plain) `file:` database. */
export type WebDb = FileDb;

/** Opens `path` through `engine` (default: a new Node engine) with `encryption`. */
export function openWeb(
  path: string,
  encryption?: EncryptionSpec,
  engine: Engine<ReceivedRows> = createNodeEngine(),
): Promise<WebDb> {
  return connectFileDb(engine, { storage: "file", path, encryption });
}

/** Opens `path` with native libSQL, with `encryptionKey` when `key` is given. */
export function openNative(path: string, key?: string): Libsql.Database {
  // The package's typings miss `encryptionKey`.
  const options: Record<string, unknown> = key === undefined ? {} : { encryptionKey: key };
  return new Libsql(path, options);
}

/** The first column of the first row natively. */
export function nativeValue(db: Libsql.Database, sql: string): unknown {
  return (db.prepare(sql).raw(true).get() as unknown[])[0];
}

/** Names of the files in `dir` (journals, lock files, key-change files included) that hold `text` in clear. */
export function filesWithText(dir: string, text: string): string[] {
  const needle = Buffer.from(text, "utf8");
  return readdirSync(dir).filter((name) => readFileSync(join(dir, name)).includes(needle));
}

/** Runs fixtures/crash-child.ts in a new Node process (through tsx). */
export function spawnCrashChild(args: string[]): Child {
  return spawnTsx(new URL("./fixtures/crash-child.ts", import.meta.url), args);
}

/**
 * Runs a crash child to the point where its transaction has spilled pages
 * into the file, then kills it (SIGKILL). `atCrash` runs while the child is
 * stopped mid-transaction, before it is killed.
 */
export async function crashChild(args: string[], atCrash: () => void | Promise<void> = () => {}): Promise<void> {
  const child = spawnCrashChild(args);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await waitForLine(child, "committed");
    child.stdin.write("go\n");
    await waitForLine(child, "inflight");
    child.kill("SIGSTOP");
    await atCrash();
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}
