import type {
  ArgValue,
  BatchCond,
  BatchResult,
  BatchStep,
  CursorChunk,
  CursorEntry,
  PackedArgs,
  ProtoError,
  ReceivedRows,
  ResultValue,
  Stmt,
  StmtResult,
} from "../proto.js";
import { transferBlock, type ValueBlock, ValueBlockReader, ValueBlockWriter } from "./value-block.js";

/**
 * The payloads of the hot calls (`execute`, `batch`, `query`,
 * `fetchCursor`) as they cross `postMessage`. Small payloads go as plain
 * arrays and objects; large ones (many rows, many batch steps) go as value
 * blocks, whose typed arrays are moved instead of cloned value by value.
 * Blobs in results are moved too: the engine copied them out of its heap.
 */

/** Below this many values, plain arrays clone faster than a block (whose typed arrays cost allocations). */
export const BLOCK_MIN_VALUES = 64;
/** Below this many steps, a batch goes as plain `BatchStep` objects. */
const COMPACT_MIN_STEPS = 16;

/** `count` rows of `width` values in a block: how the engine in a worker collects rows (`packedRows`). */
export interface PackedRows {
  width: number;
  count: number;
  block: ValueBlock;
}

/** Rows: plain, or packed. */
export type RowsWire = ResultValue[][] | PackedRows;

/** The number of rows, in either form. */
export function rowCount(rows: RowsWire): number {
  return Array.isArray(rows) ? rows.length : rows.count;
}

/** A statement: SQL, positional arguments, named arguments, `wantRows`. */
export type StmtWire = [sql: string, args?: ArgValue[], namedArgs?: Record<string, ArgValue>, wantRows?: boolean];

/** A statement's result. */
export type StmtResultWire = [
  columns: string[],
  columnTypes: string[],
  rows: RowsWire,
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
];

/**
 * Many batch steps: each distinct SQL text once, positional arguments of every
 * step in one block, the conditions `@libsql/client`-style batches give every
 * step as codes, and whatever else a step has (named arguments, other
 * conditions, `wantRows`) beside it.
 */
export interface CompactSteps {
  sqls: string[];
  /** Per step: index into `sqls`. */
  sql: Int32Array;
  /** Per step: number of positional arguments, -1 when `args` is absent. */
  arity: Int32Array;
  /** Per step: `CONDITION_*`. */
  condition: Uint8Array;
  args: ValueBlock | ArgValue[];
  /** Steps with named arguments, an unusual condition or `wantRows`: `[step, stmt fields, condition]`. */
  extras: [
    step: number,
    namedArgs: Record<string, ArgValue> | undefined,
    wantRows: boolean | undefined,
    condition: BatchCond | undefined,
  ][];
}

export type StepsWire = BatchStep[] | CompactSteps;

/** A batch's outcome per step, compact for large batches. */
export type BatchResultWire =
  | [results: (StmtResultWire | null)[], errors: (ProtoError | null)[]]
  | {
      /** Per step: `STEP_*`. */
      kinds: Uint8Array;
      /** For `STEP_WRITE`: rows affected and last insert rowid. */
      rowsAffected: Float64Array;
      lastInsertRowid: BigInt64Array;
      /** For `STEP_RESULT`, in order. */
      results: StmtResultWire[];
      /** For `STEP_ERROR`, in order. */
      errors: ProtoError[];
    };

/** A cursor chunk; `rows` entries carry `RowsWire`. */
export type CursorChunkWire = [entries: CursorEntry<RowsWire>[], done: boolean];

const CONDITION_NONE = 0;
/** `and(ok(previous step), not(is_autocommit))`: every statement of a client batch or transaction. */
const CONDITION_OK_PREVIOUS_IN_TRANSACTION = 1;
/** `not(is_autocommit)`. */
const CONDITION_IN_TRANSACTION = 2;
/** Anything else: in `extras`. */
const CONDITION_OTHER = 3;

const STEP_SKIPPED = 0;
const STEP_WRITE = 1;
const STEP_RESULT = 2;
const STEP_ERROR = 3;

// ---- rows ----

/** Encodes rows (all of one width), adding what moves to `transfer`; packed rows go as they are. */
export function encodeRows(rows: RowsWire, transfer: Transferable[]): RowsWire {
  if (!Array.isArray(rows)) {
    transferBlock(rows.block, transfer, true);
    return rows;
  }
  const count = rows.length;
  const width = count === 0 ? 0 : (rows[0] as ResultValue[]).length;
  if (count * width < BLOCK_MIN_VALUES) return plainRows(rows, transfer);
  const writer = new ValueBlockWriter(count * width);
  for (let r = 0; r < count; r++) {
    const row = rows[r] as ResultValue[];
    // Rows of unequal widths never come from the engine; keep them as they are.
    if (row.length !== width) return plainRows(rows, transfer);
    for (let c = 0; c < width; c++) writer.push(row[c]);
  }
  const block = writer.finish();
  transferBlock(block, transfer, true);
  return { width, count, block };
}

function plainRows(rows: ResultValue[][], transfer: Transferable[]): ResultValue[][] {
  for (const row of rows) for (const value of row) if (value instanceof ArrayBuffer) transfer.push(value);
  return rows;
}

/** Decodes rows: plain ones as they are, packed ones flat (no array per row). */
export function decodeRows(wire: RowsWire): ReceivedRows {
  if (Array.isArray(wire)) return wire;
  const { width, count } = wire;
  const n = width * count;
  const reader = new ValueBlockReader(wire.block);
  const values = new Array<ResultValue>(n);
  for (let i = 0; i < n; i++) values[i] = reader.next() as ResultValue;
  return { width, count, values };
}

// ---- argument lists (runMany) ----

/** Argument lists: as they are, or positional lists of one width in a block. */
export type ArgsListWire =
  | (ArgValue[] | Record<string, ArgValue>)[]
  | { width: number; count: number; block: ValueBlock };

/** Encodes argument lists; blobs are the caller's and are copied, not moved. */
export function encodeArgsList(
  list: (ArgValue[] | Record<string, ArgValue>)[],
  transfer: Transferable[],
): ArgsListWire {
  const count = list.length;
  const first = list[0];
  if (!Array.isArray(first)) return list;
  const width = first.length;
  if (count * width < BLOCK_MIN_VALUES) return list;
  const writer = new ValueBlockWriter(count * width);
  for (const args of list) {
    if (!Array.isArray(args) || args.length !== width) return list;
    for (let c = 0; c < width; c++) {
      const value = args[c];
      if (typeof value === "string") writer.pushText(value);
      else writer.push(value);
    }
  }
  const block = writer.finish();
  transferBlock(block, transfer, false);
  return { width, count, block };
}

/** Decodes argument lists: packed ones are read value by value as they are bound (no array per list). */
export function decodeArgsList(wire: ArgsListWire): (ArgValue[] | Record<string, ArgValue>)[] | PackedArgs {
  if (Array.isArray(wire)) return wire;
  const reader = new ValueBlockReader(wire.block);
  return {
    width: wire.width,
    count: wire.count,
    text: wire.block.text,
    next: () => reader.next() as ArgValue,
    nextText: () => reader.nextText(),
    nextInt32: () => reader.nextInt32(),
    get textEnd() {
      return reader.textEnd;
    },
  };
}

/** `runMany`'s result. */
export type RunManyWire = [rowsAffected: number, lastInsertRowid: bigint | undefined];

// ---- statements and results ----

export function encodeStmt(stmt: Stmt): StmtWire {
  if (stmt.wantRows !== undefined) return [stmt.sql, stmt.args, stmt.namedArgs, stmt.wantRows];
  if (stmt.namedArgs !== undefined) return [stmt.sql, stmt.args, stmt.namedArgs];
  if (stmt.args !== undefined) return [stmt.sql, stmt.args];
  return [stmt.sql];
}

export function decodeStmt(wire: StmtWire): Stmt {
  const stmt: Stmt = { sql: wire[0] };
  if (wire[1] !== undefined) stmt.args = wire[1];
  if (wire[2] !== undefined) stmt.namedArgs = wire[2];
  if (wire[3] !== undefined) stmt.wantRows = wire[3];
  return stmt;
}

export function encodeStmtResult(result: StmtResult<RowsWire>, transfer: Transferable[]): StmtResultWire {
  return [
    result.columns,
    result.columnTypes,
    encodeRows(result.rows, transfer),
    result.rowsAffected,
    result.lastInsertRowid,
  ];
}

export function decodeStmtResult(wire: StmtResultWire): StmtResult<ReceivedRows> {
  return {
    columns: wire[0],
    columnTypes: wire[1],
    rows: decodeRows(wire[2]),
    rowsAffected: wire[3],
    lastInsertRowid: wire[4],
  };
}

// ---- batches ----

function conditionCode(condition: BatchCond | undefined, step: number): number {
  if (condition === undefined) return CONDITION_NONE;
  if (isInTransaction(condition)) return CONDITION_IN_TRANSACTION;
  if (condition.type === "and" && condition.conds.length === 2) {
    const [ok, inTransaction] = condition.conds as [BatchCond, BatchCond];
    if (ok.type === "ok" && ok.step === step - 1 && isInTransaction(inTransaction)) {
      return CONDITION_OK_PREVIOUS_IN_TRANSACTION;
    }
  }
  return CONDITION_OTHER;
}

function isInTransaction(condition: BatchCond): boolean {
  return condition.type === "not" && condition.cond.type === "is_autocommit";
}

/** Encodes batch steps; `transfer` receives the typed arrays of a compact form. */
export function encodeSteps(steps: BatchStep[], transfer: Transferable[]): StepsWire {
  const n = steps.length;
  if (n < COMPACT_MIN_STEPS) return steps;
  const sqls: string[] = [];
  const sqlIndex = new Map<string, number>();
  const sql = new Int32Array(n);
  const arity = new Int32Array(n);
  const condition = new Uint8Array(n);
  const extras: CompactSteps["extras"] = [];
  let values = 0;
  for (let i = 0; i < n; i++) values += (steps[i] as BatchStep).stmt.args?.length ?? 0;
  const block = values >= BLOCK_MIN_VALUES ? new ValueBlockWriter(values) : undefined;
  const plain: ArgValue[] = [];
  for (let i = 0; i < n; i++) {
    const step = steps[i] as BatchStep;
    const stmt = step.stmt;
    let index = sqlIndex.get(stmt.sql);
    if (index === undefined) {
      index = sqls.length;
      sqls.push(stmt.sql);
      sqlIndex.set(stmt.sql, index);
    }
    sql[i] = index;
    const args = stmt.args;
    if (args === undefined) {
      arity[i] = -1;
    } else {
      arity[i] = args.length;
      if (block) for (const value of args) block.push(value);
      else for (const value of args) plain.push(value);
    }
    const code = conditionCode(step.condition, i);
    condition[i] = code;
    if (code === CONDITION_OTHER || stmt.namedArgs !== undefined || stmt.wantRows !== undefined) {
      extras.push([i, stmt.namedArgs, stmt.wantRows, code === CONDITION_OTHER ? step.condition : undefined]);
    }
  }
  transfer.push(sql.buffer, arity.buffer, condition.buffer);
  let args: ValueBlock | ArgValue[] = plain;
  if (block) {
    args = block.finish();
    transferBlock(args, transfer, false);
  }
  return { sqls, sql, arity, condition, args, extras };
}

const IN_TRANSACTION: BatchCond = { type: "not", cond: { type: "is_autocommit" } };

export function decodeSteps(wire: StepsWire): BatchStep[] {
  if (Array.isArray(wire)) return wire;
  const { sqls, sql, arity, condition } = wire;
  const n = sql.length;
  const extras = new Map(wire.extras.map((extra) => [extra[0], extra]));
  const next = Array.isArray(wire.args)
    ? (() => {
        const plain = wire.args as ArgValue[];
        let i = 0;
        return () => plain[i++] as ArgValue;
      })()
    : (() => {
        const reader = new ValueBlockReader(wire.args as ValueBlock);
        return () => reader.next() as ArgValue;
      })();
  const steps = new Array<BatchStep>(n);
  for (let i = 0; i < n; i++) {
    const stmt: Stmt = { sql: sqls[sql[i] as number] as string };
    const count = arity[i] as number;
    if (count >= 0) {
      const args = new Array<ArgValue>(count);
      for (let a = 0; a < count; a++) args[a] = next();
      stmt.args = args;
    }
    const step: BatchStep = { stmt };
    switch (condition[i]) {
      case CONDITION_OK_PREVIOUS_IN_TRANSACTION:
        step.condition = { type: "and", conds: [{ type: "ok", step: i - 1 }, IN_TRANSACTION] };
        break;
      case CONDITION_IN_TRANSACTION:
        step.condition = IN_TRANSACTION;
        break;
    }
    const extra = extras.get(i);
    if (extra) {
      if (extra[1] !== undefined) stmt.namedArgs = extra[1];
      if (extra[2] !== undefined) stmt.wantRows = extra[2];
      if (extra[3] !== undefined) step.condition = extra[3];
    }
    steps[i] = step;
  }
  return steps;
}

function isWrite(result: StmtResult<RowsWire>): boolean {
  return (
    result.columns.length === 0 &&
    rowCount(result.rows) === 0 &&
    result.columnTypes.length === 0 &&
    typeof result.lastInsertRowid === "bigint"
  );
}

export function encodeBatchResult(result: BatchResult<RowsWire>, transfer: Transferable[]): BatchResultWire {
  const n = result.stepResults.length;
  if (n < COMPACT_MIN_STEPS) {
    return [result.stepResults.map((r) => (r === null ? null : encodeStmtResult(r, transfer))), result.stepErrors];
  }
  const kinds = new Uint8Array(n);
  const rowsAffected = new Float64Array(n);
  const lastInsertRowid = new BigInt64Array(n);
  const results: StmtResultWire[] = [];
  const errors: ProtoError[] = [];
  for (let i = 0; i < n; i++) {
    const step = result.stepResults[i];
    const error = result.stepErrors[i];
    if (error) {
      kinds[i] = STEP_ERROR;
      errors.push(error);
    } else if (!step) {
      kinds[i] = STEP_SKIPPED;
    } else if (isWrite(step)) {
      kinds[i] = STEP_WRITE;
      rowsAffected[i] = step.rowsAffected;
      lastInsertRowid[i] = step.lastInsertRowid as bigint;
    } else {
      kinds[i] = STEP_RESULT;
      results.push(encodeStmtResult(step, transfer));
    }
  }
  transfer.push(kinds.buffer, rowsAffected.buffer, lastInsertRowid.buffer);
  return { kinds, rowsAffected, lastInsertRowid, results, errors };
}

export function decodeBatchResult(wire: BatchResultWire): BatchResult<ReceivedRows> {
  if (Array.isArray(wire)) {
    return { stepResults: wire[0].map((r) => (r === null ? null : decodeStmtResult(r))), stepErrors: wire[1] };
  }
  const { kinds, rowsAffected, lastInsertRowid } = wire;
  const n = kinds.length;
  const stepResults = new Array<StmtResult<ReceivedRows> | null>(n);
  const stepErrors = new Array<ProtoError | null>(n);
  let result = 0;
  let error = 0;
  for (let i = 0; i < n; i++) {
    stepResults[i] = null;
    stepErrors[i] = null;
    switch (kinds[i]) {
      case STEP_WRITE:
        stepResults[i] = {
          columns: [],
          columnTypes: [],
          rows: [],
          rowsAffected: rowsAffected[i] as number,
          lastInsertRowid: lastInsertRowid[i] as bigint,
        };
        break;
      case STEP_RESULT:
        stepResults[i] = decodeStmtResult(wire.results[result++] as StmtResultWire);
        break;
      case STEP_ERROR:
        stepErrors[i] = wire.errors[error++] as ProtoError;
        break;
    }
  }
  return { stepResults, stepErrors };
}

// ---- cursors ----

export function encodeCursorChunk(chunk: CursorChunk<RowsWire>, transfer: Transferable[]): CursorChunkWire {
  return [
    chunk.entries.map((entry) =>
      entry.type === "rows" ? { type: "rows", rows: encodeRows(entry.rows, transfer) } : entry,
    ),
    chunk.done,
  ];
}

export function decodeCursorChunk(wire: CursorChunkWire): CursorChunk<ReceivedRows> {
  return {
    entries: wire[0].map((entry) => (entry.type === "rows" ? { type: "rows", rows: decodeRows(entry.rows) } : entry)),
    done: wire[1],
  };
}
