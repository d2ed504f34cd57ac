import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  EngineApi,
  IntMode,
  ReceivedRows,
  RowsAhead,
  Stmt,
  StmtResult,
} from "../proto.js";
import type { Transport, TransportCursor, TransportStatement, TransportStream } from "../transport.js";

/**
 * A transport over an `EngineApi`: the engine itself (in-process) or a proxy
 * of it in a worker. The client's main stream is one engine connection; each
 * interactive transaction forks another connection to the same database.
 */
export class EngineTransport implements Transport {
  readonly protocol = "file" as const;
  readonly main: TransportStream;
  readonly #engine: EngineApi<ReceivedRows>;
  readonly #onClose: (() => Promise<void> | void) | undefined;

  /** `onClose` runs after the connection closed (e.g. to end a worker the client owns). */
  constructor(engine: EngineApi<ReceivedRows>, conn: number, onClose?: () => Promise<void> | void) {
    this.#engine = engine;
    this.main = new EngineStream(engine, conn);
    this.#onClose = onClose;
  }

  async openStream(): Promise<TransportStream> {
    return new EngineStream(this.#engine, await this.#engine.fork((this.main as EngineStream).conn));
  }

  async close(): Promise<void> {
    try {
      await this.main.close();
    } finally {
      await this.#onClose?.();
    }
  }
}

/** One engine connection seen as a stream. */
class EngineStream implements TransportStream {
  readonly #engine: EngineApi<ReceivedRows>;
  readonly conn: number;

  constructor(engine: EngineApi<ReceivedRows>, conn: number) {
    this.#engine = engine;
    this.conn = conn;
  }

  execute(stmt: Stmt, intMode: IntMode, onRows?: RowsAhead<ReceivedRows>): Promise<StmtResult<ReceivedRows>> {
    return this.#engine.execute(this.conn, stmt, intMode, onRows);
  }

  batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult<ReceivedRows>> {
    return this.#engine.batch(this.conn, steps, intMode);
  }

  sequence(sql: string): Promise<void> {
    return this.#engine.sequence(this.conn, sql);
  }

  describe(sql: string): Promise<DescribeResult> {
    return this.#engine.describe(this.conn, sql);
  }

  getAutocommit(): Promise<boolean> {
    return this.#engine.getAutocommit(this.conn);
  }

  metadata(): Promise<ConnectionMetadata> {
    return this.#engine.metadata(this.conn);
  }

  async prepare(sql: string): Promise<TransportStatement> {
    const { stmtId, ...info } = await this.#engine.prepare(this.conn, sql);
    const engine = this.#engine;
    const conn = this.conn;
    return {
      info,
      query: (
        args: readonly ArgValue[] | Readonly<Record<string, ArgValue>>,
        intMode: IntMode,
        maxRows?: number,
        onRows?: RowsAhead<ReceivedRows>,
      ) => engine.query(conn, stmtId, args as ArgValue[] | Record<string, ArgValue>, intMode, maxRows, onRows),
      runMany: (argsList: Iterable<ArgValue[] | Record<string, ArgValue>>) => engine.runMany(conn, stmtId, argsList),
      close: () => engine.finalize(conn, stmtId),
    };
  }

  async openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor> {
    const cursorId = await this.#engine.openCursor(this.conn, steps, intMode);
    const engine = this.#engine;
    const conn = this.conn;
    return {
      fetch: (maxRows: number): Promise<CursorChunk<ReceivedRows>> => engine.fetchCursor(conn, cursorId, maxRows),
      close: () => engine.closeCursor(conn, cursorId),
    };
  }

  close(): Promise<void> {
    return this.#engine.close(this.conn);
  }
}
