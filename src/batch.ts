import type { ResultSet, TransactionMode } from "./api.js";
import { LibsqlBatchError, LibsqlError } from "./errors.js";
import type { BatchCond, BatchResult, BatchStep, IntMode, ProtoError, ReceivedRows, Stmt } from "./proto.js";
import { buildResultSet } from "./result-set.js";

/** The BEGIN statement of each transaction mode. */
export function beginStatement(mode: TransactionMode): string {
  switch (mode) {
    case "write":
      return "BEGIN IMMEDIATE";
    case "read":
      return "BEGIN TRANSACTION READONLY";
    case "deferred":
      return "BEGIN DEFERRED";
    case "exclusive":
      return "BEGIN EXCLUSIVE";
    default:
      throw new RangeError(
        'Unknown transaction mode, supported values are "write", "read", "deferred" and "exclusive"',
      );
  }
}

/** A statement that returns no rows (BEGIN, COMMIT, pragmas). */
export function control(sql: string): Stmt {
  return { sql, wantRows: false };
}

const stillInTransaction: BatchCond = { type: "not", cond: { type: "is_autocommit" } };

/** `ok(step)`, and still inside the transaction. */
function okInTransaction(step: number): BatchCond {
  return { type: "and", conds: [{ type: "ok", step }, stillInTransaction] };
}

/**
 * Steps that run `stmts` after `first` (usually BEGIN), each only if the
 * previous one succeeded and the transaction is still open, as
 * `@libsql/client` builds them. Returns the steps and the index of each
 * statement's step.
 */
export function chainSteps(stmts: readonly Stmt[], first?: Stmt): { steps: BatchStep[]; indexes: number[] } {
  const steps: BatchStep[] = first ? [{ stmt: first }] : [];
  const indexes: number[] = [];
  for (const stmt of stmts) {
    const previous = steps.length - 1;
    steps.push({ stmt, condition: previous >= 0 ? okInTransaction(previous) : stillInTransaction });
    indexes.push(steps.length - 1);
  }
  return { steps, indexes };
}

/** A whole atomic batch: [fk off], BEGIN, statements, COMMIT, ROLLBACK if COMMIT did not run, [fk on]. */
export function atomicBatch(
  stmts: readonly Stmt[],
  mode: TransactionMode,
  disableForeignKeys = false,
): { steps: BatchStep[]; begin: number; indexes: number[]; commit: number } {
  const steps: BatchStep[] = [];
  if (disableForeignKeys) steps.push({ stmt: control("PRAGMA foreign_keys=off") });
  const begin = steps.length;
  steps.push({ stmt: control(beginStatement(mode)) });
  const indexes: number[] = [];
  for (const stmt of stmts) {
    steps.push({ stmt, condition: okInTransaction(steps.length - 1) });
    indexes.push(steps.length - 1);
  }
  const commit = steps.length;
  steps.push({ stmt: control("COMMIT"), condition: okInTransaction(commit - 1) });
  steps.push({ stmt: control("ROLLBACK"), condition: { type: "not", cond: { type: "ok", step: commit } } });
  if (disableForeignKeys) steps.push({ stmt: control("PRAGMA foreign_keys=on") });
  return { steps, begin, indexes, commit };
}

/** A `LibsqlError` from an error carried in a batch result or cursor entry. */
export function errorFromProto(error: ProtoError): LibsqlError {
  return new LibsqlError(error.message, error.code, error.extendedCode, error.rawCode);
}

/** The error of step `index`, re-raised as a `LibsqlBatchError` for the caller's statement `statementIndex`. */
function batchError(error: ProtoError, statementIndex: number): LibsqlBatchError {
  return new LibsqlBatchError(error.message, statementIndex, error.code, error.extendedCode, error.rawCode);
}

/**
 * Result sets of the statements at `indexes`; the first failed or skipped
 * statement raises a `LibsqlBatchError` naming its position.
 */
export function statementResults(
  result: BatchResult<ReceivedRows>,
  indexes: readonly number[],
  intMode: IntMode,
): ResultSet[] {
  return indexes.map((step, i) => {
    const error = result.stepErrors[step];
    if (error) throw batchError(error, i);
    const stepResult = result.stepResults[step];
    if (!stepResult) {
      throw new LibsqlBatchError(
        "Statement in a batch was not executed, probably because the transaction has been rolled back",
        i,
        "TRANSACTION_CLOSED",
      );
    }
    return buildResultSet(stepResult, intMode);
  });
}

/** Throws the error of a control step (BEGIN, COMMIT), if it failed. */
export function checkStep(result: BatchResult<ReceivedRows>, step: number): void {
  const error = result.stepErrors[step];
  if (error) throw errorFromProto(error);
}
