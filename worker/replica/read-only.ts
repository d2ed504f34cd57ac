import type { BatchResult, BatchStep, IntMode, Stmt, StmtResult } from "../../src/proto.js";
import type { Database } from "../database.js";
import type { PreparedStatement } from "../prepared-statement.js";
import { runBatch, stmtArgs } from "../run-batch.js";
import { SQLITE } from "../sqlite/raw-exports.js";

const CONTROL = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/**
 * How an embedded replica decides where a statement runs: a statement that
 * prepares against the local schema and does not write (`sqlite3_stmt_readonly`)
 * runs locally; anything else (a write, transaction control, or a statement
 * the local schema cannot prepare, e.g. a table the replica has not pulled
 * yet) goes to the primary. Deciding inside the engine costs no extra round
 * trip for reads.
 */

/** True when `stmt` only reads and is not transaction control (`sqlite3_stmt_readonly` says yes to BEGIN). */
function readsOnly(stmt: PreparedStatement): boolean {
  return stmt.readonly && !CONTROL.test(stmt.sql);
}

function prepared(db: Database, sql: string): PreparedStatement | undefined {
  try {
    return db.statement(sql);
  } catch {
    return undefined;
  }
}

/** Runs `stmt` if it only reads; null (without running it) otherwise. */
export function executeIfReadOnly(db: Database, stmt: Stmt, intMode: IntMode): StmtResult | null {
  const statement = prepared(db, stmt.sql);
  if (!statement || !readsOnly(statement)) return null;
  return statement.run(stmtArgs(stmt), intMode, stmt.wantRows ?? true);
}

/**
 * Runs the batch if every step only reads (BEGIN, COMMIT and ROLLBACK are part
 * of a batch and count as reading); null otherwise. A transaction the batch
 * left open is rolled back: a replica's local connection never holds one.
 */
export function batchIfReadOnly(db: Database, steps: BatchStep[], intMode: IntMode): BatchResult | null {
  for (const step of steps) {
    const statement = prepared(db, step.stmt.sql);
    if (!statement?.readonly) return null;
  }
  try {
    return runBatch(db, steps, intMode);
  } finally {
    db.rollback();
  }
}

/** True when every statement of the SQL text prepares here and only reads (no transaction control either). */
export function isReadOnlySql(db: Database, sql: string): boolean {
  const { sqlite } = db;
  const { x, out } = sqlite;
  const start = sqlite.encodeOwned(sql);
  const end = start + sqlite.lastLength;
  let at = start;
  let any = false;
  try {
    while (at < end) {
      const rc = x.sqlite3_prepare_v2(db.ptr, at, end - at, out, out + 4);
      const stmt = sqlite.i32[out >> 2] as number;
      const tail = sqlite.i32[(out + 4) >> 2] as number;
      if (rc !== SQLITE.OK) return false;
      if (stmt === 0) break;
      const readonly = x.sqlite3_stmt_readonly(stmt) !== 0 && !CONTROL.test(sqlite.cstr(x.sqlite3_sql(stmt)));
      x.sqlite3_finalize(stmt);
      if (!readonly) return false;
      any = true;
      at = tail;
    }
    return any;
  } finally {
    x.sqlite3_free(start);
  }
}
