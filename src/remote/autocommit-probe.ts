import type { BatchCond, BatchResult } from "../proto.js";

/**
 * Hrana 2 has neither the `is_autocommit` batch condition nor `get_autocommit`
 * (sqld rejects both on `/v2/pipeline`). Both are emulated with a probe of two
 * steps, `BEGIN DEFERRED` then `COMMIT` if it succeeded: BEGIN fails exactly when
 * the connection is already inside a transaction, and an empty deferred
 * transaction commits without touching the database or taking a lock. So
 * `is_autocommit` at some point of a batch is `ok(probe BEGIN)` placed there.
 */

/** A batch step with its statement in any form (plain or already encoded). */
export interface CondStep<S> {
  stmt: S;
  condition?: BatchCond | undefined;
}

/** The two probe steps, made from `control(sql)`; the COMMIT's condition refers to the BEGIN at `at`. */
export function probeSteps<S>(at: number, control: (sql: string) => S): CondStep<S>[] {
  return [{ stmt: control("BEGIN DEFERRED") }, { stmt: control("COMMIT"), condition: { type: "ok", step: at } }];
}

/** A batch rewritten for Hrana 2, and how to map its results back. */
export interface RewrittenBatch<S> {
  steps: CondStep<S>[];
  /** For each original step, its index in `steps`. */
  positions: number[];
}

/**
 * Rewrites `steps` so that no condition uses `is_autocommit`: a probe goes right
 * before each step whose condition does, and step references are renumbered.
 * Returns undefined when no step needs it.
 */
export function withoutAutocommitConds<S>(
  steps: readonly CondStep<S>[],
  control: (sql: string) => S,
): RewrittenBatch<S> | undefined {
  if (!steps.some((s) => s.condition && usesAutocommit(s.condition))) return undefined;
  const out: CondStep<S>[] = [];
  const positions: number[] = [];
  for (const step of steps) {
    let probe: number | undefined;
    if (step.condition && usesAutocommit(step.condition)) {
      probe = out.length;
      out.push(...probeSteps(probe, control));
    }
    positions.push(out.length);
    out.push(step.condition ? { stmt: step.stmt, condition: renumber(step.condition, positions, probe) } : step);
  }
  return { steps: out, positions };
}

/** The original steps' results out of the rewritten batch's. */
export function originalResults(result: BatchResult, positions: readonly number[]): BatchResult {
  return {
    stepResults: positions.map((p) => result.stepResults[p] ?? null),
    stepErrors: positions.map((p) => result.stepErrors[p] ?? null),
  };
}

function usesAutocommit(cond: BatchCond): boolean {
  switch (cond.type) {
    case "is_autocommit":
      return true;
    case "not":
      return usesAutocommit(cond.cond);
    case "and":
    case "or":
      return cond.conds.some(usesAutocommit);
    default:
      return false;
  }
}

function renumber(cond: BatchCond, positions: readonly number[], probe: number | undefined): BatchCond {
  switch (cond.type) {
    case "ok":
    case "error":
      // A reference to the current or a later step stays invalid, as it was.
      return { type: cond.type, step: positions[cond.step] ?? Number.MAX_SAFE_INTEGER };
    case "not":
      return { type: "not", cond: renumber(cond.cond, positions, probe) };
    case "and":
    case "or":
      return { type: cond.type, conds: cond.conds.map((c) => renumber(c, positions, probe)) };
    case "is_autocommit":
      return { type: "ok", step: probe as number };
  }
}
