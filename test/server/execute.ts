import type { ArgValue, ColJson, ExecResult, HranaBatch, HranaCond, HranaStmt, RowValue } from "./hrana-codec.js";
import { isNativeSqliteError, isSyntaxError, ProtocolError, StmtError, stmtErrorFromSqlite } from "./hrana-errors.js";
import {
  closeNativeDatabase,
  type NativeDatabase,
  type NativeStatement,
  openNativeDatabase,
} from "./native-database.js";
import {
  explainedOffset,
  parameterNames,
  SqlLexError,
  type SqlStatement,
  type StatementKind,
  splitStatements,
  statementKind,
} from "./sql-lexer.js";
import type { WriteGate } from "./write-gate.js";

/**
 * Running Hrana statements, batches, sequences and describes on a native connection, with
 * sqld's semantics (`hrana/stmt.rs`, `hrana/batch.rs`, `connection/program.rs`,
 * `query.rs`): conversion errors first (no statement, several statements, bad `sql_id`,
 * both kinds of arguments, bad condition step), then per-step execution.
 */

/** A statement ready to run: one SQL statement, its kind, and its arguments. */
export interface Query {
  sql: string;
  statement: SqlStatement;
  kind: StatementKind;
  args: ArgValue[];
  namedArgs: Map<string, ArgValue> | undefined;
  wantRows: boolean;
}

/** A converted batch: steps with their (checked) conditions. */
export type Program = { query: Query; condition: HranaCond | undefined }[];

/** Receives a statement's output as it is produced. */
export interface StepSink {
  /** The result columns, once the statement is prepared (before binding, as sqld). */
  begin(cols: ColJson[]): void;
  /** One row; a returned promise pauses stepping (back-pressure). */
  row(values: RowValue[]): void | Promise<void>;
  /** True once nobody wants the output any more: stepping stops. */
  readonly aborted: boolean;
}

/** Receives a batch's output step by step. */
export interface BatchSink {
  /** The sink for step `index`'s columns and rows. */
  step(index: number): StepSink;
  /** Step `index` ran to the end. */
  stepEnd(index: number, affectedRowCount: number, lastInsertRowid: bigint | null): void;
  /** Step `index` failed. */
  stepError(index: number, error: StmtError): void;
  /** True once nobody wants the output any more: no further step runs. */
  readonly aborted: boolean;
}

/** Thrown when a sink was aborted mid-statement (the statement was reset). */
export class OutputAbortedError extends Error {
  constructor() {
    super("the consumer of the output went away");
    this.name = "OutputAbortedError";
  }
}

/** The JSON form of a `DescribeResult`. */
export interface DescribeJson {
  params: { name: string | null }[];
  cols: { name: string; decltype: string | null }[];
  is_explain: boolean;
  is_readonly: boolean;
}

const SQLITE_BUSY = 5;

// Opcodes after which sqlite3_stmt_readonly() is false (vdbeaux.c, resolveP2Values):
// OP_Transaction with a non-zero P2 (a write transaction), Checkpoint, Vacuum, JournalMode.
const WRITING_OPCODES = new Set(["Checkpoint", "Vacuum", "JournalMode"]);

/** Runs Hrana requests on native connections; one per server. */
export class Executor {
  readonly #gate: WriteGate;
  readonly #busyTimeoutMs: number;
  readonly #dbPath: string;
  #explainDb: NativeDatabase | undefined;

  constructor(gate: WriteGate, busyTimeoutMs: number, dbPath: string) {
    this.#gate = gate;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#dbPath = dbPath;
  }

  /**
   * A connection only for `EXPLAIN`: the native package leaves `EXPLAIN INSERT …`
   * statements active after reading them, which makes a later COMMIT on that
   * connection fail ("SQL statements in progress"), so streams never run it.
   */
  #explainConnection(): NativeDatabase {
    if (!this.#explainDb?.open) this.#explainDb = openNativeDatabase(this.#dbPath);
    return this.#explainDb;
  }

  /** Closes the `EXPLAIN` connection (the server is stopping or restarting). */
  close(): void {
    if (this.#explainDb) closeNativeDatabase(this.#explainDb);
    this.#explainDb = undefined;
  }

  /** `execute`: one statement, its result collected. */
  async executeStmt(conn: NativeDatabase, stmt: HranaStmt, sqls: ReadonlyMap<number, string>): Promise<ExecResult> {
    const query = this.toQuery(conn, stmt, sqls);
    const started = performance.now();
    const sink = new CollectingSink();
    const { affectedRowCount, lastInsertRowid } = await this.run(conn, query, sink);
    return { cols: sink.cols, rows: sink.rows, affectedRowCount, lastInsertRowid, durationMs: elapsed(started) };
  }

  /**
   * Converts a batch (sqld's `proto_batch_to_program`): every step first, so that a
   * conversion error fails the whole request before any step runs.
   */
  toProgram(conn: NativeDatabase, batch: HranaBatch, sqls: ReadonlyMap<number, string>): Program {
    return batch.steps.map((step, index) => ({
      query: this.toQuery(conn, step.stmt, sqls),
      condition: step.condition === undefined ? undefined : checkCondition(step.condition, index),
    }));
  }

  /** Runs converted batch steps in order, feeding `sink`. */
  async runProgram(conn: NativeDatabase, program: Program, sink: BatchSink): Promise<void> {
    const outcomes: boolean[] = [];
    for (const [index, step] of program.entries()) {
      if (sink.aborted) throw new OutputAbortedError();
      if (step.condition !== undefined && !evalCondition(step.condition, outcomes, !conn.inTransaction)) {
        outcomes.push(false);
        continue;
      }
      try {
        const { affectedRowCount, lastInsertRowid } = await this.run(conn, step.query, sink.step(index));
        sink.stepEnd(index, affectedRowCount, lastInsertRowid);
        outcomes.push(true);
      } catch (e) {
        if (!(e instanceof StmtError)) throw e;
        sink.stepError(index, e);
        outcomes.push(false);
      }
    }
  }

  /** `sequence`: every statement of a script in order, no rows; the first failure is the request's error. */
  async executeSequence(conn: NativeDatabase, sql: string): Promise<void> {
    const statements = split(sql);
    // sqld parses the whole script before running any of it.
    for (const statement of statements) checkSyntax(conn, statement.text);
    for (const statement of statements) {
      const query: Query = {
        sql: statement.text,
        statement,
        kind: statementKind(statement.tokens),
        args: [],
        namedArgs: undefined,
        wantRows: false,
      };
      await this.run(conn, query, new CollectingSink());
    }
  }

  /** `describe`: parameters, columns, and whether the statement is EXPLAIN or read-only. */
  describe(conn: NativeDatabase, sql: string): DescribeJson {
    const statement = single(split(sql));
    const stmt = prepare(conn, statement.text);
    return {
      params: parameterNames(statement.tokens).map((name) => ({ name })),
      cols: stmt.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })),
      is_explain: statementKind(statement.tokens).isExplain,
      is_readonly: isReadonly(this.#explainConnection(), conn, statement),
    };
  }

  /** Converts a `Stmt` into a runnable query (sqld's `proto_stmt_to_query`). */
  toQuery(conn: NativeDatabase, stmt: HranaStmt, sqls: ReadonlyMap<number, string>): Query {
    const sql = resolveSql(stmt.sql, stmt.sqlId, sqls);
    const statement = single(split(sql));
    checkSyntax(conn, statement.text);
    if (stmt.args.length > 0 && stmt.namedArgs.length > 0) {
      throw new StmtError(
        "Specifying both positional and named arguments is not supported",
        "ARGS_BOTH_POSITIONAL_AND_NAMED",
      );
    }
    return {
      sql: statement.text,
      statement,
      kind: statementKind(statement.tokens),
      args: stmt.args,
      namedArgs: stmt.namedArgs.length > 0 ? new Map(stmt.namedArgs) : undefined,
      wantRows: stmt.wantRows,
    };
  }

  /**
   * Prepares, binds and steps one query, feeding `sink`. A plain SQLITE_BUSY before any
   * row was produced (another stream holds the write lock) is retried after waiting on
   * the write gate, until the busy timeout.
   */
  async run(
    conn: NativeDatabase,
    query: Query,
    sink: StepSink,
  ): Promise<{ affectedRowCount: number; lastInsertRowid: bigint | null }> {
    followReadOnlyTransaction(conn, undefined);
    const stmt = prepare(conn, query.sql);
    sink.begin(stmt.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })));
    const values = bindValues(query);
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (;;) {
      let produced = 0;
      try {
        if (stmt.reader) {
          stmt.raw(true).safeIntegers(true);
          const rows = stmt.iterate(values) as Iterator<RowValue[]>;
          for (let next = rows.next(); !next.done; next = rows.next()) {
            produced++;
            if (!query.wantRows) continue;
            const pause = sink.row(next.value);
            if (pause) await pause;
            if (sink.aborted) {
              // A new iterate() resets the statement without stepping: its snapshot goes.
              stmt.iterate(values);
              throw new OutputAbortedError();
            }
          }
        } else {
          stmt.run(values);
        }
        followReadOnlyTransaction(conn, query.sql);
        break;
      } catch (e) {
        if (isNativeSqliteError(e)) {
          if (e.rawCode === SQLITE_BUSY && produced === 0 && Date.now() < deadline) {
            await this.#gate.wait(deadline);
            continue;
          }
          throw stmtErrorFromSqlite(e, "run");
        }
        throw e;
      }
    }
    const [changes, rowid] = conn.prepare("SELECT changes(), last_insert_rowid()").raw().safeIntegers().all()[0] as [
      bigint,
      bigint,
    ];
    // sqld: sqlite3_changes() only for INSERT/UPDATE/DELETE, last_insert_rowid only for INSERT.
    return {
      affectedRowCount: query.kind.isIud ? Number(changes) : 0,
      lastInsertRowid: query.kind.isInsert ? rowid : null,
    };
  }
}

const READ_ONLY_BEGIN = /^\s*BEGIN\s+(TRANSACTION\s+)?READONLY\b/i;
const queryOnly = new WeakSet<NativeDatabase>();

/**
 * sqld refuses writes inside `BEGIN TRANSACTION READONLY`; the native package parses
 * it as a plain BEGIN, so `PRAGMA query_only` stands in for the transaction's life.
 * Called before each statement (to lift it once the transaction ended, however it
 * ended) and after each successful one (to set it after that BEGIN).
 */
function followReadOnlyTransaction(conn: NativeDatabase, ranSql: string | undefined): void {
  if (ranSql !== undefined && READ_ONLY_BEGIN.test(ranSql) && conn.inTransaction) {
    conn.exec("PRAGMA query_only=1");
    queryOnly.add(conn);
  } else if (queryOnly.has(conn) && !conn.inTransaction) {
    conn.exec("PRAGMA query_only=0");
    queryOnly.delete(conn);
  }
}

/** Collects one statement's columns and rows (the pipeline's `execute` and `batch`). */
export class CollectingSink implements StepSink {
  cols: ColJson[] = [];
  rows: RowValue[][] = [];
  readonly aborted = false;

  begin(cols: ColJson[]): void {
    this.cols = cols;
  }

  row(values: RowValue[]): void {
    this.rows.push(values);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** Resolves `sql`/`sql_id` (sqld's `proto_sql_to_sql`). */
export function resolveSql(
  sql: string | undefined,
  sqlId: number | undefined,
  sqls: ReadonlyMap<number, string>,
): string {
  if (sql !== undefined && sqlId !== undefined) {
    throw new ProtocolError("Either `sql` or `sql_id` are required, but not both");
  }
  if (sql !== undefined) return sql;
  if (sqlId === undefined) throw new ProtocolError("Either `sql` or `sql_id` are required");
  const stored = sqls.get(sqlId);
  if (stored === undefined) throw new ProtocolError(`SQL text ${sqlId} not found`);
  return stored;
}

function split(sql: string): SqlStatement[] {
  try {
    return splitStatements(sql);
  } catch (e) {
    if (e instanceof SqlLexError)
      throw new StmtError(`SQL string could not be parsed: ${e.message}`, "SQL_PARSE_ERROR");
    throw e;
  }
}

function single(statements: SqlStatement[]): SqlStatement {
  const [first] = statements;
  if (!first) throw new StmtError("SQL string does not contain any statement", "SQL_NO_STATEMENT");
  if (statements.length > 1) throw new StmtError("SQL string contains more than one statement", "SQL_MANY_STATEMENTS");
  return first;
}

function prepare(conn: NativeDatabase, sql: string): NativeStatement {
  try {
    return conn.prepare(sql);
  } catch (e) {
    if (isNativeSqliteError(e)) throw stmtErrorFromSqlite(e, "prepare");
    throw e;
  }
}

/**
 * Stands in for sqld's parse step, which rejects syntax errors while converting the
 * request (so a syntax error in any step fails the whole batch). Other prepare errors,
 * such as a table created by an earlier step, are left for the step itself.
 */
function checkSyntax(conn: NativeDatabase, sql: string): void {
  try {
    conn.prepare(sql);
  } catch (e) {
    if (isNativeSqliteError(e) && isSyntaxError(e)) throw stmtErrorFromSqlite(e, "prepare");
  }
}

/**
 * Builds the positional array handed to the native binding, following sqld's
 * `Params::bind`: `?NNN` takes positional argument NNN, a named parameter its value by
 * full name and then without the prefix, an anonymous `?` the argument at its index.
 */
function bindValues(query: Query): ArgValue[] {
  const names = parameterNames(query.statement.tokens);
  const given = query.namedArgs ? query.namedArgs.size : query.args.length;
  if (given > names.length) {
    throw argsInvalid(`too many parameters, expected ${names.length} found ${given}`);
  }
  const positional = (pos: number) => (query.namedArgs ? undefined : query.args[pos - 1]);
  const values: ArgValue[] = [];
  for (const [i, name] of names.entries()) {
    let value: ArgValue | undefined;
    if (name === null) value = positional(i + 1);
    else if (name.startsWith("?")) value = positional(Number.parseInt(name.slice(1), 10));
    else if (query.namedArgs?.has(name)) value = query.namedArgs.get(name);
    else value = query.namedArgs?.get(name.slice(1));
    if (value === undefined) {
      // sqld leaves the rest unbound for EXPLAIN, which never reads them.
      if (query.kind.isExplain) break;
      throw argsInvalid(`value for parameter ${name ?? i + 1} not found`);
    }
    values.push(value);
  }
  return values;
}

function argsInvalid(detail: string): StmtError {
  return new StmtError(`Arguments do not match SQL parameters: ${detail}`, "ARGS_INVALID");
}

/** Rejects a condition naming the current or a later step (sqld's `proto_cond_to_cond`). */
function checkCondition(cond: HranaCond, stepIndex: number): HranaCond {
  switch (cond.type) {
    case "ok":
    case "error":
      if (cond.step >= stepIndex) throw new ProtocolError("Invalid reference to step in a batch condition");
      break;
    case "not":
      checkCondition(cond.cond, stepIndex);
      break;
    case "and":
    case "or":
      for (const c of cond.conds) checkCondition(c, stepIndex);
      break;
    case "is_autocommit":
      break;
  }
  return cond;
}

/**
 * sqld's `eval_cond`. sqld records one boolean per step (ran and succeeded), so `error`
 * is "not ok" and holds for a skipped step too, where the Hrana spec says it is false.
 */
function evalCondition(cond: HranaCond, outcomes: readonly boolean[], autocommit: boolean): boolean {
  switch (cond.type) {
    case "ok":
      return outcomes[cond.step] === true;
    case "error":
      return outcomes[cond.step] !== true;
    case "not":
      return !evalCondition(cond.cond, outcomes, autocommit);
    case "and":
      return cond.conds.every((c) => evalCondition(c, outcomes, autocommit));
    case "or":
      return cond.conds.some((c) => evalCondition(c, outcomes, autocommit));
    case "is_autocommit":
      return autocommit;
  }
}

/**
 * sqlite3_stmt_readonly() from the statement's bytecode: the native package does not
 * expose it, but `EXPLAIN` lists the program. For an EXPLAIN statement SQLite answers for
 * the explained statement, so that is the one listed.
 */
function isReadonly(explainDb: NativeDatabase, conn: NativeDatabase, statement: SqlStatement): boolean {
  const offset = explainedOffset(statement.tokens);
  const inner = offset === undefined ? statement.text : statement.text.slice(offset);
  let program: unknown[][];
  try {
    program = prepare(explainDb, `EXPLAIN ${inner}`).raw(true).all() as unknown[][];
  } catch {
    // Only the stream sees tables its open transaction created; accept the active statement then.
    program = prepare(conn, `EXPLAIN ${inner}`).raw(true).all() as unknown[][];
  }
  return !program.some(([, opcode, , p2]) =>
    opcode === "Transaction" ? p2 !== 0 : WRITING_OPCODES.has(opcode as string),
  );
}
