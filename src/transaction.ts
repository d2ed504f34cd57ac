import type { InArgs, InStatement, ResultSet, Transaction, TransactionMode } from "./api.js";
import { beginStatement, chainSteps, checkStep, control, errorFromProto, statementResults } from "./batch.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import { StreamExecutor } from "./executor.js";
import { Lifecycle } from "./lifecycle.js";
import type { BatchResult, IntMode, ReceivedRows, Stmt } from "./proto.js";
import { toStmt } from "./statements.js";
import type { TransportStream } from "./transport.js";

/**
 * An interactive transaction on a stream of its own. BEGIN travels with the
 * first statement (one round trip, as `@libsql/client` does over HTTP), and
 * every later statement is guarded so that it never runs outside the
 * transaction if SQL inside it ended it.
 */
export class LibsqlTransaction extends StreamExecutor implements Transaction {
  readonly intMode: IntMode;
  readonly #stream: TransportStream;
  readonly #mode: TransactionMode;
  readonly #onClose: (tx: LibsqlTransaction) => void;
  readonly #lifecycle = new Lifecycle("transaction", ErrorCode.TRANSACTION_CLOSED);
  #started: Promise<void> | undefined;
  /** BEGIN is known to have succeeded (saves an await per statement). */
  #begun = false;
  #savepoints = 0;

  constructor(
    stream: TransportStream,
    mode: TransactionMode,
    intMode: IntMode,
    onClose: (tx: LibsqlTransaction) => void,
  ) {
    super();
    beginStatement(mode);
    this.#stream = stream;
    this.#mode = mode;
    this.intMode = intMode;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  check(): void {
    this.#lifecycle.check();
  }

  protected async stream(): Promise<TransportStream> {
    this.#started ??= this.#begin(this.#stream.execute(control(beginStatement(this.#mode)), this.intMode));
    await this.#started;
    return this.#stream;
  }

  /** Waits for BEGIN; if it failed the transaction is unusable and closes. */
  async #begin(begin: Promise<unknown>): Promise<void> {
    try {
      await begin;
      this.#begun = true;
    } catch (error) {
      this.#finish(error as Error);
      throw error;
    }
  }

  /** Sends `stmts` in one batch, with BEGIN first if it was not sent yet. */
  async #batch(stmts: Stmt[]): Promise<{ result: BatchResult<ReceivedRows>; indexes: number[] }> {
    if (this.#started === undefined) {
      const { steps, indexes } = chainSteps(stmts, control(beginStatement(this.#mode)));
      const pending = this.#stream.batch(steps, this.intMode);
      this.#started = this.#begin(pending.then((result) => checkStep(result, 0)));
      await this.#started;
      return { result: await pending, indexes };
    }
    if (!this.#begun) await this.#started;
    const { steps, indexes } = chainSteps(stmts);
    const result = await this.#stream.batch(steps, this.intMode);
    if (indexes.length > 0 && result.stepResults[0] === null && result.stepErrors[0] === null) {
      // The first statement was skipped: SQL run inside the transaction ended it.
      this.#finish("COMMIT or ROLLBACK ran as a statement inside the transaction");
      throw this.#lifecycle.error();
    }
    return { result, indexes };
  }

  protected async run(stmt: Stmt): Promise<ResultSet> {
    const { result, indexes } = await this.#batch([stmt]);
    const step = indexes[0] as number;
    const error = result.stepErrors[step];
    if (error) throw errorFromProto(error);
    return this.resultSet(result.stepResults[step] as NonNullable<BatchResult["stepResults"][number]>);
  }

  async batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    this.check();
    if (stmts.length === 0) return [];
    const { result, indexes } = await this.#batch(stmts.map((s) => toStmt(s)));
    return statementResults(result, indexes, this.intMode);
  }

  async savepoint<T>(body: (sp: Transaction) => Promise<T>): Promise<T> {
    this.check();
    const stream = await this.stream();
    const name = `libsql_web_savepoint_${++this.#savepoints}`;
    await stream.execute(control(`SAVEPOINT ${name}`), this.intMode);
    try {
      const value = await body(new SavepointView(this));
      await stream.execute(control(`RELEASE ${name}`), this.intMode);
      return value;
    } catch (error) {
      if (!this.closed) {
        await stream.execute(control(`ROLLBACK TO ${name}`), this.intMode);
        await stream.execute(control(`RELEASE ${name}`), this.intMode);
      }
      throw error;
    }
  }

  async commit(): Promise<void> {
    if (this.closed) {
      throw new LibsqlError(
        "Cannot commit the transaction because it is already closed",
        ErrorCode.TRANSACTION_CLOSED,
        undefined,
        undefined,
        this.#lifecycle.reason,
      );
    }
    if (this.#started === undefined) return this.#finish("the transaction was committed");
    try {
      await this.#started;
      await this.#stream.execute(control("COMMIT"), this.intMode);
    } finally {
      this.#finish("the transaction was committed");
    }
  }

  async rollback(): Promise<void> {
    if (this.closed) return;
    if (this.#started === undefined) return this.#finish("the transaction was rolled back");
    try {
      await this.#started.catch(() => {});
      await this.#stream.execute(control("ROLLBACK"), this.intMode);
    } finally {
      this.#finish("the transaction was rolled back");
    }
  }

  close(): void {
    this.#finish("the transaction was closed");
  }

  /** Closes the transaction, its statements and cursors, and its stream (which rolls back anything open). */
  #finish(reason: string | Error): void {
    if (!this.#lifecycle.close(reason)) return;
    const why = this.#lifecycle.reason as Error;
    this.#onClose(this);
    void this.closeChildren(why).finally(() => this.#stream.close().catch(() => {}));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/**
 * The transaction as seen inside `savepoint()`: everything but commit and
 * rollback, which the callback expresses by returning or throwing.
 */
class SavepointView implements Transaction {
  readonly #tx: LibsqlTransaction;

  constructor(tx: LibsqlTransaction) {
    this.#tx = tx;
  }

  get closed(): boolean {
    return this.#tx.closed;
  }

  execute(stmt: InStatement, args?: InArgs): Promise<ResultSet> {
    return this.#tx.execute(stmt, args);
  }

  batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    return this.#tx.batch(stmts);
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#tx.executeMultiple(sql);
  }

  prepare(sql: string) {
    return this.#tx.prepare(sql);
  }

  cursor(...args: Parameters<Transaction["cursor"]>) {
    return this.#tx.cursor(...args);
  }

  metadata() {
    return this.#tx.metadata();
  }

  savepoint<T>(body: (sp: Transaction) => Promise<T>): Promise<T> {
    return this.#tx.savepoint(body);
  }

  commit(): Promise<void> {
    return Promise.reject(misuse("commit"));
  }

  rollback(): Promise<void> {
    return Promise.reject(misuse("roll back"));
  }

  close(): void {}

  async [Symbol.asyncDispose](): Promise<void> {}
}

function misuse(what: string): LibsqlError {
  return new LibsqlError(
    `cannot ${what} from inside a savepoint: return from the callback to release it, throw to roll it back`,
    ErrorCode.MISUSE,
  );
}
