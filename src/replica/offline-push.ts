import type { Value } from "../api.js";
import { ErrorCode, LibsqlError } from "../errors.js";
import { setOwn } from "../own-property.js";
import type { ArgValue, BatchStep, ReceivedRows, ReplicaChange, Stmt, StmtResult } from "../proto.js";
import { receivedRow } from "../received-rows.js";
import type { Transport } from "../transport.js";
import type { ConflictResolution, ConflictRow, SyncConflict } from "./replica-api.js";
import { SyncConflictError } from "./replica-errors.js";

/** Rounds of "push, hear about conflicts, resolve" before giving up. */
const MAX_ROUNDS = 8;

interface Pending {
  change: ReplicaChange;
  /** Resolved with `overwrite`: push by primary key, without checking old values. */
  force: boolean;
}

/**
 * Pushes offline changes to the primary as one Hrana transaction, with this
 * conflict policy:
 * - each change is replayed by primary key: an insert inserts the row, an
 *   update sets the changed columns only where they still hold the values the
 *   replica last saw, a delete deletes the row only if it is unchanged;
 * - a change the primary already has (the row as the change leaves it) is not
 *   a conflict, so a push repeated after a lost answer is harmless;
 * - anything else is a conflict: the transaction is rolled back, and each
 *   conflict goes to `onConflict` (with the row before, after and as the primary
 *   has it) to be kept, discarded or overwritten; then the push runs again.
 *   Without `onConflict`, or when one is kept, nothing is pushed and the call
 *   fails with `SYNC_CONFLICT`; every change stays pending. Nothing is dropped
 *   unless the app says so.
 */
export async function pushChanges(
  remote: Transport,
  changes: readonly ReplicaChange[],
  onConflict: ((conflict: SyncConflict) => ConflictResolution | Promise<ConflictResolution>) | undefined,
): Promise<void> {
  let pending: Pending[] = changes.map((change) => ({ change, force: false }));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (pending.length === 0) return;
    const conflicts = await attempt(remote, pending);
    if (conflicts.length === 0) return;
    const next = new Set(pending);
    const kept: SyncConflict[] = [];
    for (const { item, conflict } of conflicts) {
      const resolution = onConflict ? await onConflict(conflict) : "keep";
      if (resolution === "discard") next.delete(item);
      else if (resolution === "overwrite" && !item.force) item.force = true;
      else kept.push(conflict);
    }
    if (kept.length > 0) throw conflictError(kept);
    pending = [...next];
  }
  throw new LibsqlError(
    `the offline changes still conflicted after ${MAX_ROUNDS} rounds of resolution; they stay pending`,
    ErrorCode.SYNC_CONFLICT,
  );
}

/** One push in a transaction; commits when nothing conflicts, else rolls back and returns the conflicts. */
async function attempt(remote: Transport, pending: Pending[]): Promise<{ item: Pending; conflict: SyncConflict }[]> {
  const stream = await remote.openStream();
  try {
    const steps: BatchStep[] = [
      { stmt: { sql: "BEGIN IMMEDIATE", wantRows: false } },
      { stmt: { sql: "PRAGMA defer_foreign_keys = ON", wantRows: false } },
      ...pending.map((item) => ({ stmt: statementFor(item) })),
    ];
    const result = await stream.batch(steps, "bigint");
    const begin = result.stepErrors[0];
    if (begin) throw new LibsqlError(begin.message, begin.code, begin.extendedCode, begin.rawCode);
    const suspects: { item: Pending; index: number; error: LibsqlError | undefined }[] = [];
    pending.forEach((item, i) => {
      const error = result.stepErrors[i + 2];
      const outcome = result.stepResults[i + 2];
      const missed = item.change.operation !== "insert" && !item.force && outcome?.rowsAffected === 0;
      if (error || missed) {
        const cause = error ? new LibsqlError(error.message, error.code, error.extendedCode, error.rawCode) : undefined;
        suspects.push({ item, index: i, error: cause });
      }
    });
    const conflicts: { item: Pending; conflict: SyncConflict }[] = [];
    if (suspects.length > 0) {
      const rows = await stream.batch(
        suspects.map(({ item }) => ({ stmt: selectRow(item.change) })),
        "bigint",
      );
      suspects.forEach(({ item, error }, i) => {
        const current = rowOf(rows.stepResults[i] ?? undefined);
        if (alreadyApplied(item.change, current)) return;
        conflicts.push({ item, conflict: describeConflict(item.change, current, error) });
      });
    }
    if (conflicts.length > 0) {
      await stream.execute({ sql: "ROLLBACK", wantRows: false }, "bigint");
      return conflicts;
    }
    try {
      await stream.execute({ sql: "COMMIT", wantRows: false }, "bigint");
    } catch (error) {
      if (!(error instanceof LibsqlError) || !error.code.startsWith("SQLITE_CONSTRAINT")) throw error;
      // A deferred foreign key failed at COMMIT: no single change is to blame.
      throw new LibsqlError(
        `the primary refused the offline changes as a whole at COMMIT (${error.message}); they stay pending`,
        ErrorCode.SYNC_CONFLICT,
        undefined,
        undefined,
        error,
      );
    }
    return [];
  } finally {
    await stream.close().catch(() => {});
  }
}

/** The statement that replays `item.change` on the primary. */
function statementFor({ change, force }: Pending): Stmt {
  const table = quote(change.table);
  const { columns, primaryKey, before, after } = change;
  const where: string[] = [];
  const whereArgs: ArgValue[] = [];
  const match = (i: number, value: ArgValue | undefined) => {
    if (value === undefined) return;
    where.push(`${quote(columns[i] as string)} IS ?`);
    whereArgs.push(value);
  };
  switch (change.operation) {
    case "insert": {
      const values = (after ?? []).map((v) => v ?? null);
      const verb = force ? "INSERT OR REPLACE" : "INSERT";
      return {
        sql: `${verb} INTO ${table} (${columns.map(quote).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        args: values,
      };
    }
    case "update": {
      const sets: string[] = [];
      const setArgs: ArgValue[] = [];
      columns.forEach((name, i) => {
        if (primaryKey[i]) match(i, before?.[i]);
        else if (after?.[i] !== undefined) {
          sets.push(`${quote(name)} = ?`);
          setArgs.push(after[i] as ArgValue);
          if (!force) match(i, before?.[i]);
        }
      });
      return {
        sql: `UPDATE ${table} SET ${sets.join(", ")} WHERE ${where.join(" AND ")}`,
        args: [...setArgs, ...whereArgs],
      };
    }
    case "delete": {
      columns.forEach((_, i) => {
        if (primaryKey[i] || !force) match(i, before?.[i]);
      });
      return { sql: `DELETE FROM ${table} WHERE ${where.join(" AND ")}`, args: whereArgs };
    }
  }
}

/** `SELECT *` of the changed row, by primary key. */
function selectRow(change: ReplicaChange): Stmt {
  const key = change.operation === "insert" ? change.after : change.before;
  const where: string[] = [];
  const args: ArgValue[] = [];
  change.columns.forEach((name, i) => {
    if (!change.primaryKey[i]) return;
    where.push(`${quote(name)} IS ?`);
    args.push(key?.[i] ?? null);
  });
  return { sql: `SELECT * FROM ${quote(change.table)} WHERE ${where.join(" AND ")}`, args };
}

/** True when the primary's row is already what the change makes of it. */
function alreadyApplied(change: ReplicaChange, current: ConflictRow | undefined): boolean {
  if (change.operation === "delete") return current === undefined;
  if (current === undefined) return false;
  return change.columns.every((name, i) => {
    const value = change.after?.[i];
    return value === undefined || same(value, current[name]);
  });
}

function describeConflict(
  change: ReplicaChange,
  current: ConflictRow | undefined,
  error: LibsqlError | undefined,
): SyncConflict {
  const keyRow = change.operation === "insert" ? change.after : change.before;
  const key: ConflictRow = {};
  change.columns.forEach((name, i) => {
    if (change.primaryKey[i]) setOwn(key, name, toValue(keyRow?.[i] ?? null));
  });
  return {
    reason: error ? "constraint" : current === undefined ? "missing" : "changed",
    table: change.table,
    operation: change.operation,
    key,
    before: rowFrom(change.columns, change.before),
    after: rowFrom(change.columns, change.after),
    current,
    error,
  };
}

function rowFrom(columns: string[], values: (ArgValue | undefined)[] | undefined): ConflictRow | undefined {
  if (!values) return undefined;
  const row: ConflictRow = {};
  columns.forEach((name, i) => {
    const value = values[i];
    if (value !== undefined) setOwn(row, name, toValue(value));
  });
  return row;
}

function rowOf(result: StmtResult<ReceivedRows> | undefined): ConflictRow | undefined {
  const values = result && receivedRow(result.rows, 0);
  if (!result || !values) return undefined;
  const row: ConflictRow = {};
  result.columns.forEach((name, i) => {
    setOwn(row, name, values[i] as Value);
  });
  return row;
}

function toValue(value: ArgValue): Value {
  return value instanceof Uint8Array ? (value.slice().buffer as ArrayBuffer) : value;
}

/** SQLite's `IS` for the values a change and a result hold. */
function same(a: ArgValue, b: Value | undefined): boolean {
  if (b === undefined) return false;
  if (a === null || b === null) return a === b;
  if (a instanceof Uint8Array) {
    if (!(b instanceof ArrayBuffer) || b.byteLength !== a.byteLength) return false;
    const other = new Uint8Array(b);
    return a.every((byte, i) => byte === other[i]);
  }
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (b instanceof ArrayBuffer) return false;
  // Integers and reals compare by value, as in SQLite.
  return typeof a === "bigint" && typeof b === "bigint" ? a === b : Number(a) === Number(b);
}

function conflictError(conflicts: SyncConflict[]): SyncConflictError {
  const first = conflicts[0] as SyncConflict;
  return new SyncConflictError(
    `${conflicts.length} offline change(s) conflict with the primary (first: ${first.operation} in "${first.table}", ${first.reason}); nothing was pushed and every change stays pending`,
    conflicts,
  );
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
