import type { CursorOptions, InArgs, ResultSet, Row, Statement } from "./api.js";
import { DEFAULT_CHUNK_SIZE, LibsqlCursor } from "./cursor.js";
import { ErrorCode } from "./errors.js";
import { Lifecycle } from "./lifecycle.js";
import type { ArgValue, IntMode, StmtResult } from "./proto.js";
import { buildResultSet, buildRows } from "./result-set.js";
import { toArgs } from "./statements.js";
import type { TransportCursor, TransportStatement } from "./transport.js";

/** What a statement needs from the connection or transaction that prepared it. */
export interface StatementHost {
  readonly intMode: IntMode;
  /** Throws when the host (client or transaction) is closed. */
  check(): void;
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

  #query(args: InArgs | undefined, maxRows?: number): Promise<StmtResult> {
    this.#check();
    const { args: positional, namedArgs } = toArgs(args);
    const values: readonly ArgValue[] | Readonly<Record<string, ArgValue>> = namedArgs ?? positional ?? [];
    return this.#stmt.query(values, this.#host.intMode, maxRows);
  }

  async run(args?: InArgs): Promise<ResultSet> {
    return buildResultSet(await this.#query(args), this.#host.intMode);
  }

  async all(args?: InArgs): Promise<Row[]> {
    const result = await this.#query(args);
    return buildRows(result.columns, result.rows, this.#host.intMode);
  }

  async get(args?: InArgs): Promise<Row | undefined> {
    const result = await this.#query(args, 1);
    return buildRows(result.columns, result.rows, this.#host.intMode)[0];
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
