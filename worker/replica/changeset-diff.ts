import { LibsqlError } from "../../src/errors.js";
import type { ArgValue, ReplicaChange } from "../../src/proto.js";
import type { Database } from "../database.js";
import { SQLITE } from "../sqlite/raw-exports.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import { MainFile } from "./main-file.js";
import { keyedTables } from "./offline-guard.js";

const SYNCED = "libsql_web_synced";
const OPS: Record<number, ReplicaChange["operation"]> = { 18: "insert", 23: "update", 9: "delete" };

/**
 * The rows the working copy `work` changed relative to the replicated
 * database `synced` (which must be the database the copy was made from), as
 * the session extension computes them (`sqlite3session_diff`), for every
 * ordinary table with a PRIMARY KEY. The copy's guard refuses every other
 * write, so nothing else can differ.
 */
export function diffChanges(work: Database, synced: Database): ReplicaChange[] {
  const { sqlite } = work;
  const { x } = sqlite;
  const file = sqlite.cstr(x.sqlite3_db_filename(synced.ptr, sqlite.encode("main")));
  // Through the replicated database's own VFS (in browsers each database has a pool, and a VFS, of its own).
  const vfs = new MainFile(sqlite, synced.ptr).vfsName();
  const uri = `file:${file.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}?vfs=${encodeURIComponent(vfs)}`;
  work.exec(`ATTACH ${quote(uri)} AS ${SYNCED}`);
  let session = 0;
  try {
    const tables = [...keyedTables(work)];
    const main = sqlite.encodeOwned("main");
    const slot = sqlite.malloc(4);
    try {
      sqlite.check(work.ptr, x.sqlite3session_create(work.ptr, main, slot));
      session = sqlite.i32[slot >> 2] as number;
    } finally {
      x.sqlite3_free(slot);
      x.sqlite3_free(main);
    }
    for (const table of tables) diffTable(work, session, table);
    return readChangeset(work, session, tables);
  } finally {
    if (session) x.sqlite3session_delete(session);
    work.exec(`DETACH ${SYNCED}`);
  }
}

function diffTable(work: Database, session: number, table: string): void {
  const { sqlite } = work;
  const { x } = sqlite;
  const name = sqlite.encodeOwned(table);
  const from = sqlite.encodeOwned(SYNCED);
  const err = sqlite.malloc(4);
  sqlite.i32[err >> 2] = 0;
  try {
    let rc = x.sqlite3session_attach(session, name);
    if (rc === SQLITE.OK) rc = x.sqlite3session_diff(session, from, name, err);
    if (rc !== SQLITE.OK) {
      const message = sqlite.cstr(sqlite.i32[err >> 2] as number) || sqlite.cstr(x.sqlite3_errstr(rc));
      throw new LibsqlError(
        `could not compare table "${table}" with the replica: ${message}`,
        sqlite.codeName(rc & 0xff),
      );
    }
  } finally {
    x.sqlite3_free(sqlite.i32[err >> 2] as number);
    x.sqlite3_free(err);
    x.sqlite3_free(name);
    x.sqlite3_free(from);
  }
}

function readChangeset(work: Database, session: number, tables: string[]): ReplicaChange[] {
  const { sqlite } = work;
  const { x } = sqlite;
  const out = sqlite.malloc(32);
  const changes: ReplicaChange[] = [];
  let changeset = 0;
  let iter = 0;
  try {
    sqlite.check(work.ptr, x.sqlite3session_changeset(session, out, out + 4));
    const size = sqlite.i32[out >> 2] as number;
    changeset = sqlite.i32[(out + 4) >> 2] as number;
    if (size === 0) return changes;
    sqlite.check(work.ptr, x.sqlite3changeset_start(out, size, changeset));
    iter = sqlite.i32[out >> 2] as number;
    const columnsOf = new Map<string, string[]>();
    for (const table of tables) columnsOf.set(table, columnNames(work, table));
    while (x.sqlite3changeset_next(iter) === SQLITE.ROW) {
      sqlite.check(work.ptr, x.sqlite3changeset_op(iter, out, out + 4, out + 8, out + 12));
      const table = sqlite.cstr(sqlite.i32[out >> 2] as number);
      const count = sqlite.i32[(out + 4) >> 2] as number;
      const operation = OPS[sqlite.i32[(out + 8) >> 2] as number];
      const columns = columnsOf.get(table);
      if (!operation || !columns || columns.length !== count) {
        throw new LibsqlError(`unexpected change to "${table}" in the offline changes`, "INTERNAL_ERROR");
      }
      sqlite.check(work.ptr, x.sqlite3changeset_pk(iter, out + 16, out + 20));
      const flags = sqlite.i32[(out + 16) >> 2] as number;
      const primaryKey = columns.map((_, i) => sqlite.u8[flags + i] !== 0);
      changes.push({
        table,
        operation,
        columns,
        primaryKey,
        before: operation === "insert" ? undefined : values(sqlite, iter, count, out + 24, false),
        after: operation === "delete" ? undefined : values(sqlite, iter, count, out + 24, true),
      });
    }
    return changes;
  } finally {
    if (iter) x.sqlite3changeset_finalize(iter);
    if (changeset) x.sqlite3_free(changeset);
    x.sqlite3_free(out);
  }
}

/** Old or new values of the current change; undefined where the change holds none (unchanged update columns). */
function values(sqlite: Sqlite, iter: number, count: number, slot: number, after: boolean): (ArgValue | undefined)[] {
  const { x } = sqlite;
  const row: (ArgValue | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    sqlite.i32[slot >> 2] = 0;
    const rc = after ? x.sqlite3changeset_new(iter, i, slot) : x.sqlite3changeset_old(iter, i, slot);
    if (rc !== SQLITE.OK) throw new LibsqlError("could not read an offline change", sqlite.codeName(rc & 0xff));
    const value = sqlite.i32[slot >> 2] as number;
    row.push(value === 0 ? undefined : readValue(sqlite, value));
  }
  return row;
}

function readValue(sqlite: Sqlite, value: number): ArgValue {
  const { x } = sqlite;
  switch (x.sqlite3_value_type(value)) {
    case SQLITE.INTEGER:
      return x.sqlite3_value_int64(value);
    case SQLITE.FLOAT:
      return x.sqlite3_value_double(value);
    case SQLITE.TEXT: {
      const p = x.sqlite3_value_text(value);
      return sqlite.decode(p, x.sqlite3_value_bytes(value));
    }
    case SQLITE.BLOB: {
      const p = x.sqlite3_value_blob(value);
      const n = x.sqlite3_value_bytes(value);
      return n === 0 ? new Uint8Array(0) : sqlite.u8.slice(p, p + n);
    }
    default:
      return null;
  }
}

function columnNames(db: Database, table: string): string[] {
  const result = db.statement("SELECT name FROM pragma_table_info(?1)").run([table], "number");
  return result.rows.map((row) => String(row[0]));
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
