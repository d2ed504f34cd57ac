import { type Remote, releaseProxy, type TransferHandler, transferHandlers, wrap } from "comlink";
import { ErrorCode, LibsqlError } from "../errors.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  IntMode,
  OpenRequest,
  PreparedInfo,
  Stmt,
  StmtResult,
} from "../proto.js";
import { errorThrowHandler, type ThrowHandler } from "./error-codec.js";
import type { WorkerApi } from "./worker-protocol.js";

/**
 * The engine in a worker, seen from the page: each call goes over comlink on
 * one `MessagePort`. Comlink's own calls only ever resolve, so this keeps the
 * calls in flight itself: once the worker is known to be gone (`end()`), every
 * pending and later call rejects with `WORKER_TERMINATED`. Cleanup calls
 * (`close`, `finalize`, `closeCursor`) resolve instead: a dead worker holds
 * nothing any more.
 */
export class WorkerEngine implements WorkerApi {
  readonly #remote: Remote<WorkerApi>;
  readonly #pending = new Set<(error: LibsqlError) => void>();
  #ended: { reason: string; cause: unknown } | undefined;

  constructor(port: MessagePort) {
    transferHandlers.set(
      "throw",
      errorThrowHandler(transferHandlers.get("throw") as unknown as ThrowHandler) as unknown as TransferHandler<
        unknown,
        unknown
      >,
    );
    this.#remote = wrap<WorkerApi>(port);
  }

  /** True once `end()` was called. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Marks the worker as gone: pending and later calls reject with `WORKER_TERMINATED`. */
  end(reason: string, cause?: unknown): void {
    if (this.#ended) return;
    this.#ended = { reason, cause };
    for (const reject of this.#pending) reject(this.#terminated());
    this.#pending.clear();
  }

  /** Tells the worker to stop serving this port (comlink's release). */
  release(): void {
    this.#remote[releaseProxy]();
  }

  #terminated(): LibsqlError {
    const { reason, cause } = this.#ended as { reason: string; cause: unknown };
    return new LibsqlError(`the engine's worker ${reason}`, ErrorCode.WORKER_TERMINATED, undefined, undefined, cause);
  }

  #call<T>(invoke: () => Promise<T>): Promise<T> {
    if (this.#ended) return Promise.reject(this.#terminated());
    let sent: Promise<T>;
    try {
      sent = invoke();
    } catch (error) {
      return Promise.reject(sendError(error));
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.add(reject);
      const settle = () => this.#pending.delete(reject);
      sent.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(sendError(error));
        },
      );
    });
  }

  #cleanup(invoke: () => Promise<void>): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return this.#call(invoke).catch((error: unknown) => {
      if (!(error instanceof LibsqlError && error.code === ErrorCode.WORKER_TERMINATED)) throw error;
    });
  }

  lifetimeLock(): Promise<string | null> {
    return this.#call(() => this.#remote.lifetimeLock());
  }

  open(request: OpenRequest): Promise<number> {
    return this.#call(() => this.#remote.open(request));
  }

  fork(conn: number): Promise<number> {
    return this.#call(() => this.#remote.fork(conn));
  }

  close(conn: number): Promise<void> {
    return this.#cleanup(() => this.#remote.close(conn));
  }

  execute(conn: number, stmt: Stmt, intMode: IntMode): Promise<StmtResult> {
    return this.#call(() => this.#remote.execute(conn, stmt, intMode));
  }

  batch(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult> {
    return this.#call(() => this.#remote.batch(conn, steps, intMode));
  }

  sequence(conn: number, sql: string): Promise<void> {
    return this.#call(() => this.#remote.sequence(conn, sql));
  }

  describe(conn: number, sql: string): Promise<DescribeResult> {
    return this.#call(() => this.#remote.describe(conn, sql));
  }

  getAutocommit(conn: number): Promise<boolean> {
    return this.#call(() => this.#remote.getAutocommit(conn));
  }

  metadata(conn: number): Promise<ConnectionMetadata> {
    return this.#call(() => this.#remote.metadata(conn));
  }

  prepare(conn: number, sql: string): Promise<PreparedInfo> {
    return this.#call(() => this.#remote.prepare(conn, sql));
  }

  query(
    conn: number,
    stmtId: number,
    args: ArgValue[] | Record<string, ArgValue>,
    intMode: IntMode,
    maxRows?: number,
  ): Promise<StmtResult> {
    return this.#call(() => this.#remote.query(conn, stmtId, args, intMode, maxRows));
  }

  finalize(conn: number, stmtId: number): Promise<void> {
    return this.#cleanup(() => this.#remote.finalize(conn, stmtId));
  }

  openCursor(conn: number, steps: BatchStep[], intMode: IntMode): Promise<number> {
    return this.#call(() => this.#remote.openCursor(conn, steps, intMode));
  }

  fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunk> {
    return this.#call(() => this.#remote.fetchCursor(conn, cursorId, maxRows));
  }

  closeCursor(conn: number, cursorId: number): Promise<void> {
    return this.#cleanup(() => this.#remote.closeCursor(conn, cursorId));
  }

  exportDatabase(conn: number): Promise<Uint8Array> {
    return this.#call(() => this.#remote.exportDatabase(conn));
  }

  importDatabase(request: OpenRequest, bytes: Uint8Array): Promise<void> {
    return this.#call(() => this.#remote.importDatabase(request, bytes));
  }

  deleteDatabase(request: OpenRequest): Promise<void> {
    return this.#call(() => this.#remote.deleteDatabase(request));
  }
}

/** Errors decoded from the worker pass as they are; a failure to send (e.g. `DataCloneError`) becomes a `LibsqlError`. */
function sendError(error: unknown): unknown {
  if (error instanceof LibsqlError || error instanceof RangeError || error instanceof TypeError) return error;
  return new LibsqlError(
    `could not send the call to the engine's worker: ${(error as Error)?.message ?? String(error)}`,
    ErrorCode.INTERNAL_ERROR,
    undefined,
    undefined,
    error,
  );
}
