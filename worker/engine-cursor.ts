import { LibsqlError } from "../src/errors.js";
import type { BatchStep, CursorChunk, CursorEntry, IntMode, ResultValue } from "../src/proto.js";
import type { Database } from "./database.js";
import type { PreparedStatement } from "./prepared-statement.js";
import { arrayRows, type RowCollector, type RowFormat } from "./row-format.js";
import { checkConditions, evalCondition, protoError, type StepOutcomes, stmtArgs } from "./run-batch.js";
import { SQLITE } from "./sqlite/raw-exports.js";

/**
 * A cursor over a batch, producing Hrana cursor entries a chunk at a time so
 * that a large result never sits in memory whole. The current step's
 * statement stays open between fetches.
 */
export class EngineCursor<Rows = ResultValue[][]> {
  readonly #db: Database;
  readonly #steps: readonly BatchStep[];
  readonly #intMode: IntMode;
  readonly #format: RowFormat<Rows>;
  readonly #outcomes: StepOutcomes = { ok: [], failed: [] };
  #index = 0;
  #current: PreparedStatement | null = null;
  #columnCount = 0;
  #changesBefore = 0;
  #done = false;

  constructor(
    db: Database,
    steps: readonly BatchStep[],
    intMode: IntMode,
    format: RowFormat<Rows> = arrayRows as unknown as RowFormat<Rows>,
  ) {
    checkConditions(steps);
    this.#db = db;
    this.#steps = steps;
    this.#intMode = intMode;
    this.#format = format;
  }

  /** Produces entries until about `maxRows` rows were read or the batch ends. */
  fetch(maxRows: number): CursorChunk<Rows> {
    const entries: CursorEntry<Rows>[] = [];
    let rows: RowCollector<Rows> | null = null;
    const flush = () => {
      if (rows !== null && rows.count > 0) entries.push({ type: "rows", rows: rows.finish() });
      rows = null;
    };
    const { x } = this.#db.sqlite;
    let produced = 0;
    while (!this.#done && produced < maxRows) {
      const stmt = this.#current ?? this.#startNextStep(entries);
      if (!stmt) continue;
      const rc = x.sqlite3_step(stmt.ptr);
      if (rc === SQLITE.ROW) {
        rows ??= this.#format.collect(this.#columnCount, maxRows - produced);
        rows.add(this.#db.sqlite, stmt.ptr, this.#intMode);
        produced++;
        continue;
      }
      flush();
      if (rc === SQLITE.DONE) {
        const db = this.#db.ptr;
        const reader = this.#columnCount > 0;
        entries.push({
          type: "step_end",
          rowsAffected: reader || x.sqlite3_total_changes(db) === this.#changesBefore ? 0 : x.sqlite3_changes(db),
          lastInsertRowid: reader ? undefined : x.sqlite3_last_insert_rowid(db),
        });
        this.#outcomes.ok[this.#index] = true;
      } else {
        entries.push({
          type: "step_error",
          step: this.#index,
          error: protoError(this.#db.sqlite.error(this.#db.ptr, rc)),
        });
        this.#outcomes.failed[this.#index] = true;
      }
      this.#finishStep();
    }
    flush();
    return { entries, done: this.#done };
  }

  /** Prepares the next step whose condition holds; null when it was skipped or failed. */
  #startNextStep(entries: CursorEntry<Rows>[]): PreparedStatement | null {
    if (this.#index >= this.#steps.length) {
      this.#done = true;
      return null;
    }
    const step = this.#steps[this.#index] as BatchStep;
    if (step.condition && !evalCondition(step.condition, this.#outcomes, this.#db)) {
      this.#index++;
      return null;
    }
    let stmt: PreparedStatement | null = null;
    try {
      stmt = this.#db.prepare(step.stmt.sql);
      stmt.bind(stmtArgs(step.stmt));
      stmt.beforeStep();
    } catch (error) {
      stmt?.finalize();
      if (!(error instanceof LibsqlError)) throw error;
      entries.push({ type: "step_error", step: this.#index, error: protoError(error) });
      this.#outcomes.failed[this.#index] = true;
      this.#index++;
      return null;
    }
    const { columns, columnTypes } = stmt.columnInfo();
    entries.push({ type: "step_begin", step: this.#index, columns, columnTypes });
    this.#columnCount = columns.length;
    this.#changesBefore = this.#db.sqlite.x.sqlite3_total_changes(this.#db.ptr);
    this.#current = stmt;
    return stmt;
  }

  #finishStep(): void {
    this.#current?.finalize();
    this.#current = null;
    this.#index++;
  }

  /** Finalises the open statement; the cursor produces nothing more. */
  close(): void {
    this.#current?.finalize();
    this.#current = null;
    this.#done = true;
  }
}
