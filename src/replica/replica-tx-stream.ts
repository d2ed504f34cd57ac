import type {
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  DescribeResult,
  IntMode,
  ReceivedRows,
  Stmt,
  StmtResult,
} from "../proto.js";
import type { TransportCursor, TransportStatement, TransportStream } from "../transport.js";
import { EngineTransport } from "../transports/engine-transport.js";
import { isCommit, isReadOnlyBegin, type ReplicaRouter } from "./replica-router.js";

/** Where a transaction runs. */
interface Target {
  stream: TransportStream;
  /** `remote`: the primary; `replica`: a read-only transaction on the local replica; `work`: the working copy. */
  kind: "remote" | "replica" | "work";
  /** The working copy's connection, for `work`. */
  work?: number;
  /** Gives the offline gate back, for `work`. */
  release?: () => void;
}

/**
 * An interactive transaction on a replica. Where it runs is decided by its
 * first call (the transaction's BEGIN): a read-only transaction on the local
 * replica; offline, in the working copy; otherwise on a stream of its own on
 * the primary, after whose COMMIT the replica pulls (read your writes). If the
 * primary cannot be reached at BEGIN and the app allowed offline writes, the
 * transaction moves to the working copy.
 */
export class ReplicaTxStream implements TransportStream {
  readonly #router: ReplicaRouter;
  #target: Promise<Target> | undefined;
  #closed = false;

  constructor(router: ReplicaRouter) {
    this.#router = router;
  }

  #choose(sql: string): Promise<Target> {
    this.#target ??= this.#open(sql);
    return this.#target;
  }

  async #open(sql: string): Promise<Target> {
    const r = this.#router;
    if (isReadOnlyBegin(sql) && !r.writesLocally()) return this.#local(r.syncedConn, "replica");
    if (r.writesLocally()) return this.#working();
    return { stream: await r.remote.openStream(), kind: "remote" };
  }

  async #local(conn: number, kind: "replica" | "work", extra: Partial<Target> = {}): Promise<Target> {
    const r = this.#router;
    const forked = await r.engine.fork(conn);
    return { stream: new EngineTransport(r.engine, forked).main, kind, ...extra };
  }

  async #working(): Promise<Target> {
    const { work, release } = await this.#router.enterWorkingCopy();
    try {
      return await this.#local(work, "work", { work, release });
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Runs the first call on the primary; if it could not reach it and the app
   * allows offline writes, runs it again in the working copy, where the rest
   * of the transaction follows.
   */
  async #run<T>(sql: string, call: (stream: TransportStream) => Promise<T>): Promise<{ result: T; target: Target }> {
    const first = this.#target === undefined;
    let target = await this.#choose(sql);
    try {
      return { result: await this.#call(target, call), target };
    } catch (error) {
      if (!first || target.kind !== "remote" || !this.#router.fallsBack(error)) throw error;
      await target.stream.close().catch(() => {});
      this.#target = this.#working();
      target = await this.#target;
      return { result: await this.#call(target, call), target };
    }
  }

  async #call<T>(target: Target, call: (stream: TransportStream) => Promise<T>): Promise<T> {
    try {
      return await call(target.stream);
    } catch (error) {
      throw target.work === undefined ? error : await this.#router.explain(error, target.work);
    }
  }

  /** After a COMMIT: the replica pulls (remote), or counts the local write (working copy). */
  async #committed(target: Target): Promise<void> {
    if (target.kind === "remote") await this.#router.afterRemoteWrite();
    else if (target.kind === "work") await this.#router.countLocalWrite();
  }

  async execute(stmt: Stmt, intMode: IntMode): Promise<StmtResult<ReceivedRows>> {
    const { result, target } = await this.#run(stmt.sql, (s) => s.execute(stmt, intMode));
    if (isCommit(stmt.sql)) await this.#committed(target);
    return result;
  }

  async batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult<ReceivedRows>> {
    const { result, target } = await this.#run(steps[0]?.stmt.sql ?? "", (s) => s.batch(steps, intMode));
    const committed = steps.some((step, i) => isCommit(step.stmt.sql) && result.stepResults[i] !== null);
    if (committed) await this.#committed(target);
    return result;
  }

  async sequence(sql: string): Promise<void> {
    const { target } = await this.#run(sql, (s) => s.sequence(sql));
    if (isCommit(sql)) await this.#committed(target);
  }

  async describe(sql: string): Promise<DescribeResult> {
    return (await this.#run(sql, (s) => s.describe(sql))).result;
  }

  async getAutocommit(): Promise<boolean> {
    if (!this.#target) return true;
    return (await this.#target).stream.getAutocommit();
  }

  async metadata(): Promise<ConnectionMetadata> {
    return (await this.#run("", (s) => s.metadata())).result;
  }

  async prepare(sql: string): Promise<TransportStatement> {
    return (await this.#run(sql, (s) => s.prepare(sql))).result;
  }

  async openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor> {
    return (await this.#run(steps[0]?.stmt.sql ?? "", (s) => s.openCursor(steps, intMode))).result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#target;
    if (!pending) return;
    const target = await pending.catch(() => undefined);
    if (!target) return;
    try {
      await target.stream.close();
    } finally {
      target.release?.();
    }
  }
}
