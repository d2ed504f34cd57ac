import type { Cursor, CursorOptions, InArgs, InStatement, Metadata, ResultSet, Statement } from "./api.js";
import { DEFAULT_CHUNK_SIZE, LibsqlCursor } from "./cursor.js";
import type { BatchResult, BatchStep, IntMode, ReceivedRows, Stmt } from "./proto.js";
import { buildResultSet } from "./result-set.js";
import { LibsqlStatement, type StatementHost } from "./statement.js";
import { toStmt } from "./statements.js";
import type { TransportCursor, TransportStream } from "./transport.js";

/** Something a client or transaction must close when it closes. */
interface Child {
  close(reason: Error): Promise<void>;
}

/**
 * What clients and transactions share: statements, scripts, prepared
 * statements, cursors and metadata on one transport stream, and the children
 * (statements, cursors) to close along with them.
 */
export abstract class StreamExecutor implements StatementHost {
  abstract readonly intMode: IntMode;
  readonly #children = new Set<Child>();

  /** The stream statements run on; a transaction starts itself here if needed. */
  protected abstract stream(): Promise<TransportStream>;

  /** Runs one statement on the stream (a transaction guards it with `is_autocommit`). */
  protected abstract run(stmt: Stmt): Promise<ResultSet>;

  /** Throws when closed. */
  abstract check(): void;

  execute(stmt: InStatement, args?: InArgs): Promise<ResultSet> {
    try {
      this.check();
      return this.run(toStmt(stmt, args));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async executeMultiple(sql: string): Promise<void> {
    this.check();
    await (await this.stream()).sequence(sql);
  }

  async prepare(sql: string): Promise<Statement> {
    this.check();
    const stmt = await (await this.stream()).prepare(sql);
    const statement = new LibsqlStatement(sql, stmt, this);
    this.track(statement);
    return statement;
  }

  async cursor(stmt: InStatement, options?: CursorOptions): Promise<Cursor> {
    this.check();
    const { sql, args, namedArgs } = toStmt(stmt);
    const cursor = new LibsqlCursor(
      () => this.openCursor(sql, { args, namedArgs }),
      this.intMode,
      options?.chunkSize ?? DEFAULT_CHUNK_SIZE,
      (c) => this.untrack(c),
    );
    this.track(cursor);
    return cursor.start();
  }

  async metadata(): Promise<Metadata> {
    this.check();
    return (await this.stream()).metadata();
  }

  async runSteps(steps: BatchStep[]): Promise<BatchResult<ReceivedRows>> {
    return (await this.stream()).batch(steps, this.intMode);
  }

  async openCursor(sql: string, args: Pick<Stmt, "args" | "namedArgs">): Promise<TransportCursor> {
    return (await this.stream()).openCursor([{ stmt: { sql, ...args } }], this.intMode);
  }

  track(child: LibsqlCursor | LibsqlStatement): void {
    this.#children.add(child);
  }

  untrack(child: LibsqlCursor | LibsqlStatement): void {
    this.#children.delete(child);
  }

  /** Closes every statement and cursor opened here. */
  protected async closeChildren(reason: Error): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    await Promise.all(children.map((child) => child.close(reason).catch(() => {})));
  }

  /** A result set from a stream result, for subclasses. */
  protected resultSet(result: Parameters<typeof buildResultSet>[0]): ResultSet {
    return buildResultSet(result, this.intMode);
  }
}
