import type { CursorOptions, InArgs, ResultSet, Row, Statement } from "./api.js";
import { errorFromProto } from "./batch.js";
import { DEFAULT_CHUNK_SIZE, LibsqlCursor } from "./cursor.js";
import { ErrorCode, LibsqlBatchError } from "./errors.js";
import { isIterableObject } from "./iterable.js";
import { Lifecycle } from "./lifecycle.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  IntMode,
  ReceivedRows,
  RowsAhead,
  RunManyResult,
  Stmt,
  StmtResult,
} from "./proto.js";
import { buildRows, ResultSetImpl, RowsBuilder } from "./result-set.js";
import { toArgList, toArgs } from "./statements.js";
import type { TransportCursor, TransportStatement } from "./transport.js";

/** What a statement needs from the connection or transaction that prepared it. */
export interface StatementHost {
  readonly intMode: IntMode;
  /** Throws when the host (client or transaction) is closed. */
  check(): void;
  /** Runs batch steps on the host's stream (a transaction starts itself first). */
  runSteps(steps: BatchStep[]): Promise<BatchResult<ReceivedRows>>;
  /** Opens a cursor over `sql` with `args` on the host's stream. */
  openCursor(sql: string, args: ReturnType<typeof toArgs>): Promise<TransportCursor>;
  /** Tracks a cursor or statement so that closing the host closes it. */
  track(child: LibsqlCursor | LibsqlStatement): void;
  /** Forgets a closed cursor or statement. */
  untrack(child: LibsqlCursor | LibsqlStatement): void;
}

/** A prepared statement: introspection plus `run`/`all`/`get`/`iterate`. */
export class LibsqlStatement implements Statement {
  readonly sql: string;
  readonly parameterNames: ReadonlyArray<string | null>;
  readonly columns: ReadonlyArray<string>;
  readonly columnTypes: ReadonlyArray<string>;
  readonly readonly: boolean;
  readonly #stmt: TransportStatement;
  readonly #host: StatementHost;
  readonly #lifecycle = new Lifecycle("statement", ErrorCode.STATEMENT_CLOSED);

  constructor(sql: string, stmt: TransportStatement, host: StatementHost) {
    this.sql = sql;
    this.#stmt = stmt;
    this.#host = host;
    this.parameterNames = Object.freeze([...stmt.info.params]);
    this.columns = Object.freeze([...stmt.info.columns]);
    this.columnTypes = Object.freeze([...stmt.info.columnTypes]);
    this.readonly = stmt.info.isReadonly;
  }

  get parameterCount(): number {
    return this.parameterNames.length;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  #check(): void {
    this.#host.check();
    this.#lifecycle.check();
  }

  #query(
    args: InArgs | undefined,
    maxRows?: number,
    onRows?: RowsAhead<ReceivedRows>,
  ): Promise<StmtResult<ReceivedRows>> {
    this.#check();
    const { args: positional, namedArgs } = toArgs(args);
    const values: readonly ArgValue[] | Readonly<Record<string, ArgValue>> = namedArgs ?? positional ?? [];
    return this.#stmt.query(values, this.#host.intMode, maxRows, onRows);
  }

  async run(args?: InArgs): Promise<ResultSet> {
    const rows = new RowsBuilder(this.#host.intMode);
    return rows.finish(await this.#query(args, undefined, rows.add));
  }

  async all(args?: InArgs): Promise<Row[]> {
    return (await this.run(args)).rows;
  }

  async get(args?: InArgs): Promise<Row | undefined> {
    const result = await this.#query(args, 1);
    return buildRows(result.columns, result.rows, this.#host.intMode)[0];
  }

  async runMany(argsList: Iterable<InArgs>): Promise<ResultSet> {
    this.#check();
    if (!isIterableObject(argsList)) throw new TypeError("runMany expects an array or an iterable of argument lists");
    // An array is checked whole before anything runs; another iterable list by list, as it is sent.
    const lists = Array.isArray(argsList) ? argsList.map(toArgList) : convertEach(argsList);
    const result = this.#stmt.runMany
      ? await this.#stmt.runMany(lists)
      : await this.#runManyAsBatch(Array.isArray(lists) ? lists : Array.from(lists));
    return new ResultSetImpl([], [], [], result.rowsAffected, result.lastInsertRowid);
  }

  /** Without a bulk path: one batch of SAVEPOINT, the runs chained by `ok`, then RELEASE, or ROLLBACK TO. */
  async #runManyAsBatch(lists: (ArgValue[] | Record<string, ArgValue>)[]): Promise<RunManyResult> {
    const control = (sql: string): Stmt => ({ sql, wantRows: false });
    const steps: BatchStep[] = [{ stmt: control("SAVEPOINT libsql_web_run_many") }];
    for (const args of lists) {
      const stmt: Stmt = Array.isArray(args)
        ? { sql: this.sql, args, wantRows: false }
        : { sql: this.sql, namedArgs: args, wantRows: false };
      steps.push({ stmt, condition: { type: "ok", step: steps.length - 1 } });
    }
    const release = steps.length;
    steps.push({ stmt: control("RELEASE libsql_web_run_many"), condition: { type: "ok", step: release - 1 } });
    const failed = { type: "not", cond: { type: "ok", step: release } } as const;
    steps.push({ stmt: control("ROLLBACK TO libsql_web_run_many"), condition: failed });
    steps.push({ stmt: control("RELEASE libsql_web_run_many"), condition: failed });
    const result = await this.#host.runSteps(steps);
    let rowsAffected = 0;
    let lastInsertRowid: bigint | undefined;
    for (let i = 0; i < lists.length; i++) {
      const error = result.stepErrors[i + 1];
      if (error) throw new LibsqlBatchError(error.message, i, error.code, error.extendedCode, error.rawCode);
      const step = result.stepResults[i + 1];
      rowsAffected += step?.rowsAffected ?? 0;
      lastInsertRowid = step?.lastInsertRowid ?? lastInsertRowid;
    }
    const controlError = result.stepErrors[0] ?? result.stepErrors[release];
    if (controlError) throw errorFromProto(controlError);
    return { rowsAffected, lastInsertRowid };
  }

  iterate(args?: InArgs, options?: CursorOptions): AsyncIterableIterator<Row> {
    this.#check();
    const cursor = new LibsqlCursor(
      () => this.#host.openCursor(this.sql, toArgs(args)),
      this.#host.intMode,
      options?.chunkSize ?? DEFAULT_CHUNK_SIZE,
      (c) => this.#host.untrack(c),
    );
    this.#host.track(cursor);
    return cursor;
  }

  /** Finalises the statement. Idempotent. */
  async close(reason: string | Error = "the statement was closed"): Promise<void> {
    if (!this.#lifecycle.close(reason)) return;
    this.#host.untrack(this);
    await this.#stmt.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** `argsList`'s lists converted as they are taken (see `toArgList`). */
function* convertEach(argsList: Iterable<InArgs>): Generator<ArgValue[] | Record<string, ArgValue>> {
  for (const args of argsList) yield toArgList(args);
}
