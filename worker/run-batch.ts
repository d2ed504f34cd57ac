import { ErrorCode, LibsqlError } from "../src/errors.js";
import type {
  ArgValue,
  BatchCond,
  BatchResult,
  BatchStep,
  IntMode,
  ProtoError,
  ResultValue,
  Stmt,
} from "../src/proto.js";
import type { Database } from "./database.js";
import type { Args } from "./prepared-statement.js";
import { arrayRows, type RowFormat } from "./row-format.js";

/** Per-step outcomes so far, for evaluating conditions. */
export interface StepOutcomes {
  ok: boolean[];
  failed: boolean[];
}

/** The arguments of `stmt` in the form a prepared statement binds. */
export function stmtArgs(stmt: Stmt): Args {
  const named = stmt.namedArgs;
  if (named && Object.keys(named).length > 0) {
    if (stmt.args && stmt.args.length > 0) {
      throw new LibsqlError(
        "a statement cannot take both positional and named arguments",
        "ARGS_BOTH_POSITIONAL_AND_NAMED",
      );
    }
    return named as Readonly<Record<string, ArgValue>>;
  }
  return stmt.args;
}

/** Rejects conditions that refer to the current or a later step, as sqld does. */
export function checkConditions(steps: readonly BatchStep[]): void {
  const check = (cond: BatchCond, index: number): void => {
    switch (cond.type) {
      case "ok":
      case "error":
        if (!Number.isInteger(cond.step) || cond.step < 0 || cond.step >= index) {
          throw new LibsqlError(
            `invalid reference to step ${cond.step} in the condition of batch step ${index}`,
            ErrorCode.BATCH_INVALID,
          );
        }
        return;
      case "not":
        check(cond.cond, index);
        return;
      case "and":
      case "or":
        for (const c of cond.conds) check(c, index);
        return;
      case "is_autocommit":
        return;
      default:
        throw new LibsqlError(`unknown batch condition ${JSON.stringify(cond)}`, ErrorCode.BATCH_INVALID);
    }
  };
  steps.forEach((step, index) => {
    if (step.condition) check(step.condition, index);
  });
}

/** Evaluates a batch condition against the outcomes of earlier steps. */
export function evalCondition(cond: BatchCond, outcomes: StepOutcomes, db: Database): boolean {
  switch (cond.type) {
    case "ok":
      return outcomes.ok[cond.step] === true;
    case "error":
      return outcomes.failed[cond.step] === true;
    case "not":
      return !evalCondition(cond.cond, outcomes, db);
    case "and":
      return cond.conds.every((c) => evalCondition(c, outcomes, db));
    case "or":
      return cond.conds.some((c) => evalCondition(c, outcomes, db));
    case "is_autocommit":
      return db.autocommit;
  }
}

/** An error as plain data for batch results and cursor entries. */
export function protoError(error: unknown): ProtoError {
  if (error instanceof LibsqlError) {
    return {
      message: error.message.slice(error.code.length + 2),
      code: error.code,
      extendedCode: error.extendedCode,
      rawCode: error.rawCode,
    };
  }
  return { message: String((error as Error)?.message ?? error), code: "INTERNAL_ERROR" };
}

/**
 * Runs the steps of a batch in order, as Hrana defines it: a step whose
 * condition is false is skipped (both slots null); a failing step records its
 * error and the batch goes on.
 */
export function runBatch<Rows = ResultValue[][]>(
  db: Database,
  steps: readonly BatchStep[],
  intMode: IntMode,
  format: RowFormat<Rows> = arrayRows as unknown as RowFormat<Rows>,
): BatchResult<Rows> {
  checkConditions(steps);
  const outcomes: StepOutcomes = { ok: [], failed: [] };
  const result: BatchResult<Rows> = { stepResults: [], stepErrors: [] };
  steps.forEach((step, i) => {
    result.stepResults.push(null);
    result.stepErrors.push(null);
    if (step.condition && !evalCondition(step.condition, outcomes, db)) return;
    try {
      const stmt = db.statement(step.stmt.sql);
      result.stepResults[i] = stmt.run(stmtArgs(step.stmt), intMode, step.stmt.wantRows ?? true, undefined, format);
      outcomes.ok[i] = true;
    } catch (error) {
      if (!(error instanceof LibsqlError)) throw error;
      result.stepErrors[i] = protoError(error);
      outcomes.failed[i] = true;
    }
  });
  return result;
}
