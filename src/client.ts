import type { Client, InArgs, InStatement, Replicated, ResultSet, Transaction, TransactionMode } from "./api.js";
import { atomicBatch, checkStep, statementResults } from "./batch.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import { StreamExecutor } from "./executor.js";
import { Lifecycle } from "./lifecycle.js";
import type { IntMode, Stmt } from "./proto.js";
import { RowsBuilder } from "./result-set.js";
import { toStmt } from "./statements.js";
import { LibsqlTransaction } from "./transaction.js";
import type { Transport, TransportStream } from "./transport.js";

/**
 * The client, written once over a `Transport`: the same code runs in-process,
 * through a worker and over HTTP. The transport may still be opening (the
 * engine loads lazily); calls wait for it, and an opening failure is the
 * error of every call.
 */
export class LibsqlClient extends StreamExecutor implements Client {
  readonly intMode: IntMode;
  readonly protocol: string;
  readonly #open: () => Promise<Transport>;
  #transport: Promise<Transport>;
  #ready: Transport | undefined;
  readonly #transactions = new Set<LibsqlTransaction>();
  #lifecycle = new Lifecycle("client", ErrorCode.CLIENT_CLOSED);

  /** `open` creates the transport; it is called now and again by `reconnect()`. */
  constructor(open: () => Promise<Transport>, protocol: string, intMode: IntMode) {
    super();
    this.#open = open;
    this.protocol = protocol;
    this.intMode = intMode;
    this.#transport = this.#watch(this.#open());
  }

  /** Remembers the transport once open, so that calls skip an await; keeps a failure handled. */
  #watch(transport: Promise<Transport>): Promise<Transport> {
    transport.then(
      (t) => {
        if (this.#transport === transport) this.#ready = t;
      },
      () => {},
    );
    return transport;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  check(): void {
    this.#lifecycle.check();
  }

  protected async stream(): Promise<TransportStream> {
    return (this.#ready ?? (await this.#transport)).main;
  }

  protected async run(stmt: Stmt): Promise<ResultSet> {
    const main = this.#ready?.main ?? (await this.stream());
    const rows = new RowsBuilder(this.intMode);
    return rows.finish(await main.execute(stmt, this.intMode, rows.add));
  }

  async batch(stmts: Array<InStatement | [string, InArgs?]>, mode: TransactionMode = "deferred"): Promise<ResultSet[]> {
    this.check();
    return this.#atomic(
      stmts.map((s) => toStmt(s)),
      mode,
      false,
    );
  }

  async migrate(stmts: Array<InStatement>): Promise<ResultSet[]> {
    this.check();
    return this.#atomic(
      stmts.map((s) => toStmt(s)),
      "deferred",
      true,
    );
  }

  async #atomic(stmts: Stmt[], mode: TransactionMode, disableForeignKeys: boolean): Promise<ResultSet[]> {
    const { steps, begin, indexes, commit } = atomicBatch(stmts, mode, disableForeignKeys);
    const result = await (await this.stream()).batch(steps, this.intMode);
    checkStep(result, begin);
    const sets = statementResults(result, indexes, this.intMode);
    checkStep(result, commit);
    return sets;
  }

  transaction(mode?: TransactionMode): Promise<Transaction>;
  transaction<T>(mode: TransactionMode, body: (tx: Transaction) => Promise<T>): Promise<T>;
  async transaction<T>(
    mode: TransactionMode = "write",
    body?: (tx: Transaction) => Promise<T>,
  ): Promise<Transaction | T> {
    this.check();
    const transport = this.#ready ?? (await this.#transport);
    const tx = new LibsqlTransaction(await transport.openStream(), mode, this.intMode, (t) =>
      this.#transactions.delete(t),
    );
    if (this.closed) {
      tx.close();
      this.check();
    }
    this.#transactions.add(tx);
    if (!body) return tx;
    try {
      const value = await body(tx);
      if (!tx.closed) await tx.commit();
      return value;
    } catch (error) {
      if (!tx.closed) await tx.rollback().catch(() => {});
      throw error;
    } finally {
      tx.close();
    }
  }

  async sync(): Promise<Replicated> {
    this.check();
    const transport = this.#ready ?? (await this.#transport);
    if (!transport.sync) {
      throw new LibsqlError("sync() needs an embedded replica (a client with syncUrl)", ErrorCode.SYNC_NOT_SUPPORTED);
    }
    return transport.sync();
  }

  close(): void {
    void this.#shutdown("the client was closed");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#shutdown("the client was closed");
  }

  /** Closes transactions, statements and cursors, then the transport. */
  async #shutdown(reason: string): Promise<void> {
    if (!this.#lifecycle.close(reason)) return;
    await this.#release(this.#lifecycle.reason as Error);
  }

  /** Closes what the client opened; the transport is taken now, before any await, as reconnect() replaces it. */
  async #release(why: Error): Promise<void> {
    const transport = this.#transport;
    this.#ready = undefined;
    for (const tx of this.#transactions) tx.close();
    this.#transactions.clear();
    await this.closeChildren(why);
    await transport.then((t) => t.close()).catch(() => {});
  }

  reconnect(): void {
    const previous = this.#release(new Error("the client reconnected"));
    this.#lifecycle = new Lifecycle("client", ErrorCode.CLIENT_CLOSED);
    this.#transport = this.#watch(previous.then(() => this.#open()));
  }
}
