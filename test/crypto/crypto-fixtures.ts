import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Libsql from "libsql";
import type { PageCodec } from "../../worker/crypto/page-codec.js";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";

/** A fresh temporary directory and its removal. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "libsql-web-crypto-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Page size from a plain or encrypted header (bytes 16..17 stay clear in both formats). */
export function pageSizeOf(file: Uint8Array): number {
  const raw = (file[16]! << 8) | file[17]!;
  return raw === 1 ? 65536 : raw;
}

/** Runs `codec` over every page of `file` into a new array. */
export function mapPages(
  file: Uint8Array,
  pageSize: number,
  fn: (pageNo: number, page: Uint8Array, out: Uint8Array) => void,
) {
  if (file.length % pageSize !== 0) throw new Error(`file size ${file.length} is not a multiple of ${pageSize}`);
  const out = new Uint8Array(file.length);
  for (let i = 0; i < file.length / pageSize; i++) {
    fn(i + 1, file.subarray(i * pageSize, (i + 1) * pageSize), out.subarray(i * pageSize, (i + 1) * pageSize));
  }
  return out;
}

/** Decrypts a whole database file page by page. */
export function decryptFile(codec: PageCodec, file: Uint8Array): Uint8Array {
  return mapPages(file, pageSizeOf(file), (n, page, out) => codec.decryptPage(n, page, out));
}

/** Encrypts a whole database file page by page. */
export function encryptFile(codec: PageCodec, file: Uint8Array): Uint8Array {
  return mapPages(file, pageSizeOf(file), (n, page, out) => codec.encryptPage(n, page, out));
}

/** Rows every fixture database holds: text, numbers, blobs long enough to overflow small pages. */
export const FIXTURE_SQL = `
  CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty REAL, data BLOB);
  CREATE INDEX items_name ON items(name);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
  INSERT INTO items SELECT i, 'item-' || i || '-' || hex(randomblob(8)), i * 1.5,
    CASE WHEN i % 50 = 0 THEN randomblob(3000) ELSE randomblob(i % 40) END FROM n;
`;

/** What a fixture database must show, whichever side opened it. */
export const FIXTURE_SUMMARY_SQL =
  "SELECT count(*) AS n, sum(qty) AS qty, sum(length(data)) AS bytes, max(name) AS last FROM items";

/** Opens a database with native libSQL, with `encryptionKey` when `key` is given. */
export function openNative(path: string, key?: string): Libsql.Database {
  const options: Record<string, unknown> = key === undefined ? {} : { encryptionKey: key };
  return new Libsql(path, options);
}

/** One row from native libSQL, without the `_metadata` it adds. */
export function nativeRow(db: Libsql.Database, sql: string): Record<string, unknown> {
  const { _metadata, ...row } = db.prepare(sql).get() as Record<string, unknown>;
  return row;
}

let sqlite3Module: ReturnType<typeof loadNodeSqlite> | undefined;

/**
 * A database made by the wasm engine with `SQLITE_FCNTL_RESERVE_BYTES` = `reserve`
 * (as the encrypting VFS will do for the authenticated format), as file bytes.
 */
export async function reservedDatabase(pageSize: number, reserve: number): Promise<Uint8Array> {
  sqlite3Module ??= loadNodeSqlite("optimized");
  // biome-ignore lint/suspicious/noExplicitAny: the sqlite3 JS API object is untyped here.
  const sqlite3: any = await sqlite3Module;
  const { capi, wasm, oo1 } = sqlite3;
  const db = new oo1.DB(":memory:");
  const arg = wasm.alloc(4);
  try {
    wasm.poke32(arg, reserve);
    const rc = capi.sqlite3_file_control(db.pointer, "main", capi.SQLITE_FCNTL_RESERVE_BYTES, arg);
    if (rc !== 0) throw new Error(`SQLITE_FCNTL_RESERVE_BYTES failed: ${rc}`);
    db.exec(`PRAGMA page_size = ${pageSize}; ${FIXTURE_SQL}`);
    return capi.sqlite3_js_db_export(db.pointer) as Uint8Array;
  } finally {
    wasm.dealloc(arg);
    db.close();
  }
}

let plainCount = 0;

/**
 * Opens `bytes` as a plain database with native libSQL (no key), checks
 * `PRAGMA integrity_check` and returns the row of `sql`.
 */
export function plainRow(dir: string, bytes: Uint8Array, sql: string): Record<string, unknown> {
  const path = join(dir, `plain-copy-${++plainCount}.db`);
  writeFileSync(path, bytes);
  const db = openNative(path);
  try {
    const check = nativeRow(db, "PRAGMA integrity_check");
    if (check.integrity_check !== "ok") throw new Error(`integrity_check: ${JSON.stringify(check)}`);
    return nativeRow(db, sql);
  } finally {
    db.close();
  }
}
