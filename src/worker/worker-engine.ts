import { type Remote, releaseProxy, type TransferHandler, transfer, transferHandlers, wrap } from "comlink";
import { ErrorCode, LibsqlError } from "../errors.js";
import { isIterableObject } from "../iterable.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  EncryptionSpec,
  EngineApi,
  ExportOptions,
  FlatRows,
  IntMode,
  OpenRequest,
  PreparedInfo,
  ReceivedRows,
  ReplicaApplied,
  ReplicaChange,
  ReplicaEngineApi,
  ReplicaOfflineApi,
  RowsAhead,
  RunManyPart,
  RunManyResult,
  Stmt,
  StmtResult,
} from "../proto.js";
import { appendRows } from "../received-rows.js";
import { CursorReadAhead } from "./cursor-read-ahead.js";
import { decodeError, errorThrowHandler, type ThrowHandler } from "./error-codec.js";
import {
  type BatchResultWire,
  type CursorChunkWire,
  decodeBatchResult,
  decodeCursorChunk,
  decodeRows,
  decodeStmtResult,
  encodeArgsList,
  encodeSteps,
  encodeStmt,
  type RowsWire,
  type RunManyWire,
  type StmtResultWire,
} from "./hot-wire.js";
import { LANE_TIMING, type LaneTiming, PageLane, sharedLaneAvailable } from "./shared-lane.js";
import type { ChannelPort } from "./worker-channel.js";
import {
  ANSWER_ERROR,
  ANSWER_ROWS_AHEAD,
  HOT,
  type HotRequest,
  type HotResponse,
  type LaneOffer,
  OP_BATCH,
  OP_EXECUTE,
  OP_FETCH_CURSOR,
  OP_LANE,
  OP_QUERY,
  OP_RUN_MANY,
  type WorkerApi,
} from "./worker-protocol.js";

/** Lists per part of a long `runMany`: small enough that the worker starts soon, large enough that messages stay few. */
const RUN_MANY_PART = 8192;

/** A hot call waiting for its answer. */
interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  decode(wire: never): unknown;
  /** Sees the answer before it is decoded (to ask for more early). */
  arrived: ((wire: never) => void) | undefined;
  /** Takes rows sent ahead of the answer. */
  ahead: ((rows: RowsWire, columns: string[]) => void) | undefined;
}

/**
 * The engine in a worker, seen from the page, on one `MessagePort` (or a
 * channel on the worker's own messages, `worker-channel.ts`): the hot
 * calls (`execute`, `batch`, `query`, `fetchCursor`) as compact messages of
 * our own (see `HotCall`), every other call through comlink. Comlink's own
 * calls only ever resolve, so this keeps the calls in flight itself: once the
 * worker is known to be gone (`end()`), every pending and later call rejects
 * with `WORKER_TERMINATED`. Cleanup calls (`close`, `finalize`,
 * `closeCursor`) resolve instead: a dead worker holds nothing any more.
 */
export class WorkerEngine implements EngineApi<ReceivedRows>, ReplicaEngineApi, ReplicaOfflineApi, WorkerApi {
  readonly #remote: Remote<WorkerApi>;
  readonly #port: MessagePort | ChannelPort;
  readonly #pending = new Set<(error: LibsqlError) => void>();
  readonly #waiting = new Map<number, Waiting>();
  /** Chunks wait there as they came, decoded only once taken (see `fetchCursor`). */
  readonly #readAhead = new CursorReadAhead<CursorChunkWire>();
  /** Per connection, the parted `runMany` that the next one waits for. */
  readonly #bulks = new Map<number, Promise<void>>();
  readonly #lane: PageLane | undefined;
  #nextId = 0;
  #ended: { reason: string; cause: unknown } | undefined;

  /**
   * `sharedLane`: also send hot calls through shared memory when the worker
   * waits there (see `shared-lane.ts`), where the page can (cross-origin
   * isolated); `false` keeps to messages. `laneTiming`: how long the worker waits there
   * (tests lengthen it to make the lane's use certain on a loaded machine).
   */
  constructor(
    port: MessagePort | ChannelPort,
    options: { sharedLane?: boolean | undefined; laneTiming?: LaneTiming } = {},
  ) {
    transferHandlers.set(
      "throw",
      errorThrowHandler(transferHandlers.get("throw") as unknown as ThrowHandler) as unknown as TransferHandler<
        unknown,
        unknown
      >,
    );
    this.#port = port;
    // Comlink posts through `#post` too: the lane counts every message the page sends.
    this.#remote = wrap<WorkerApi>({
      postMessage: (message: unknown, transfer?: Transferable[]) => this.#post(message, transfer ?? []),
      addEventListener: port.addEventListener.bind(port),
      removeEventListener: port.removeEventListener.bind(port),
      start: () => port.start(),
    });
    port.addEventListener("message", (event: Event) => this.#answer((event as MessageEvent).data));
    port.start();
    if (options.sharedLane !== false && sharedLaneAvailable()) {
      this.#lane = new PageLane();
      this.#post([HOT, 0, OP_LANE, this.#lane.buffer, options.laneTiming ?? LANE_TIMING] satisfies LaneOffer, []);
    }
  }

  /** Hot calls answered through the shared lane so far (0 without one). */
  get laneAnswers(): number {
    return this.#lane?.answered ?? 0;
  }

  /** Posts a message on the port, telling the lane first (the worker must not wait on it while the message is unread). */
  #post(message: unknown, transfer: Transferable[]): void {
    this.#lane?.posting();
    try {
      this.#port.postMessage(message, transfer);
    } catch (error) {
      this.#lane?.notPosted();
      throw error;
    }
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
    for (const waiting of this.#waiting.values()) waiting.reject(this.#terminated());
    this.#waiting.clear();
    this.#lane?.close();
  }

  /** Tells the worker to stop serving this port (comlink's release). */
  release(): void {
    this.#remote[releaseProxy]();
  }

  #terminated(): LibsqlError {
    const { reason, cause } = this.#ended as { reason: string; cause: unknown };
    return new LibsqlError(`the engine's worker ${reason}`, ErrorCode.WORKER_TERMINATED, undefined, undefined, cause);
  }

  /** Sends a hot call; `decode` turns its answer into the result. */
  #hot<W, T>(
    request: HotRequest,
    transfer: Transferable[],
    decode: (wire: W) => T,
    arrived?: (wire: W) => void,
    ahead?: (rows: RowsWire, columns: string[]) => void,
  ): Promise<T> {
    if (this.#ended) return Promise.reject(this.#terminated());
    return new Promise<T>((resolve, reject) => {
      const id = request[1];
      this.#waiting.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        decode: decode as (wire: never) => unknown,
        arrived: arrived as ((wire: never) => void) | undefined,
        ahead,
      });
      if (this.#lane?.send(request, (kind, value) => this.#answer([HOT, id, kind, value]))) return;
      try {
        this.#post(request, transfer);
      } catch (error) {
        this.#waiting.delete(id);
        reject(sendError(error));
      }
    });
  }

  #answer(data: unknown): void {
    if (!Array.isArray(data) || data[0] !== HOT) return;
    const response = data as HotResponse;
    const waiting = this.#waiting.get(response[1]);
    if (!waiting) return;
    if (response[2] === ANSWER_ROWS_AHEAD) {
      try {
        waiting.ahead?.(response[3], response[4]);
      } catch (error) {
        this.#waiting.delete(response[1]);
        waiting.reject(error);
      }
      return;
    }
    this.#waiting.delete(response[1]);
    if (response[2] === ANSWER_ERROR) {
      waiting.reject(decodeError(response[3]));
      return;
    }
    let value: unknown;
    try {
      waiting.arrived?.(response[3] as never);
      value = waiting.decode(response[3] as never);
    } catch (error) {
      waiting.reject(error);
      return;
    }
    waiting.resolve(value);
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

  execute(
    conn: number,
    stmt: Stmt,
    intMode: IntMode,
    onRows?: RowsAhead<ReceivedRows>,
  ): Promise<StmtResult<ReceivedRows>> {
    return this.#rowsHot([HOT, ++this.#nextId, OP_EXECUTE, conn, encodeStmt(stmt), intMode], onRows);
  }

  /**
   * A hot call answered with a statement result, whose rows may partly come
   * ahead of it: those are decoded as they arrive, while the worker still
   * reads, and go to `onRows`; without it, the result's own rows are added
   * after them.
   */
  #rowsHot(request: HotRequest, onRows: RowsAhead<ReceivedRows> | undefined): Promise<StmtResult<ReceivedRows>> {
    let before: FlatRows | undefined;
    return this.#hot(
      request,
      [],
      (wire: StmtResultWire) => {
        const result = decodeStmtResult(wire);
        return before ? { ...result, rows: appendRows(before, result.rows) } : result;
      },
      undefined,
      (rows, columns) => {
        if (onRows) onRows(decodeRows(rows), columns);
        else before = appendRows(before ?? { width: 0, count: 0, values: [] }, decodeRows(rows));
      },
    );
  }

  batch(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult<ReceivedRows>> {
    const transfer: Transferable[] = [];
    const request: HotRequest = [HOT, ++this.#nextId, OP_BATCH, conn, encodeSteps(steps, transfer), intMode];
    return this.#hot(request, transfer, (wire: BatchResultWire) => decodeBatchResult(wire));
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
    onRows?: RowsAhead<ReceivedRows>,
  ): Promise<StmtResult<ReceivedRows>> {
    return this.#rowsHot([HOT, ++this.#nextId, OP_QUERY, conn, stmtId, args, intMode, maxRows], onRows);
  }

  /**
   * Runs `stmtId` once per argument list. More than `RUN_MANY_PART` lists go
   * in parts (see `RunManyPart`): the worker runs the first while the page
   * encodes the next. Lists that are not an array (a generator, say) are
   * taken and sent part by part, so that the worker starts while the page
   * still makes them; if taking them throws, the parts sent are undone and
   * that error is thrown, as where lists are taken whole before any run.
   * Parted calls on one connection take turns.
   */
  runMany(
    conn: number,
    stmtId: number,
    argsList: Iterable<ArgValue[] | Record<string, ArgValue>>,
  ): Promise<RunManyResult> {
    if (Array.isArray(argsList) && argsList.length <= RUN_MANY_PART) return this.#runManyPart(conn, stmtId, argsList);
    if (!isIterableObject(argsList)) return this.#runManyPart(conn, stmtId, argsList as never);
    // The map holds settled promises only, so the next call always follows.
    const run = (this.#bulks.get(conn) ?? Promise.resolve()).then(() => this.#runManyInParts(conn, stmtId, argsList));
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#bulks.set(conn, settled);
    settled.then(() => {
      if (this.#bulks.get(conn) === settled) this.#bulks.delete(conn);
    });
    return run;
  }

  async #runManyInParts(
    conn: number,
    stmtId: number,
    argsList: Iterable<ArgValue[] | Record<string, ArgValue>>,
  ): Promise<RunManyResult> {
    const parts: Promise<RunManyResult>[] = [];
    let offset = 0;
    try {
      for (const { lists, last } of partsOf(argsList, RUN_MANY_PART)) {
        parts.push(this.#runManyPart(conn, stmtId, lists, { first: offset === 0, last, offset }));
        offset += lists.length;
      }
    } catch (error) {
      // As where the lists are taken whole before any run: their error is the one thrown, and nothing is kept.
      if (parts.length > 0) {
        const abandoned = this.#runManyPart(conn, stmtId, [], { first: false, last: true, offset, abandon: true });
        await Promise.allSettled([...parts, abandoned]);
      }
      throw error;
    }
    let rowsAffected = 0;
    let lastInsertRowid: bigint | undefined;
    for (const settled of await Promise.allSettled(parts)) {
      if (settled.status === "rejected") throw settled.reason;
      rowsAffected += settled.value.rowsAffected;
      lastInsertRowid = settled.value.lastInsertRowid ?? lastInsertRowid;
    }
    return { rowsAffected, lastInsertRowid };
  }

  #runManyPart(
    conn: number,
    stmtId: number,
    argsList: (ArgValue[] | Record<string, ArgValue>)[],
    part?: RunManyPart,
  ): Promise<RunManyResult> {
    const transfer: Transferable[] = [];
    const wire = encodeArgsList(argsList, transfer);
    const request: HotRequest = [HOT, ++this.#nextId, OP_RUN_MANY, conn, stmtId, wire];
    if (part) request.push(part);
    return this.#hot(request, transfer, (result: RunManyWire) => ({
      rowsAffected: result[0],
      lastInsertRowid: result[1],
    }));
  }

  finalize(conn: number, stmtId: number): Promise<void> {
    return this.#cleanup(() => this.#remote.finalize(conn, stmtId));
  }

  async openCursor(conn: number, steps: BatchStep[], intMode: IntMode): Promise<number> {
    const cursorId = await this.#call(() => this.#remote.openCursor(conn, steps, intMode));
    this.#readAhead.opened(cursorId, steps.length);
    return cursorId;
  }

  /**
   * The next chunk of a cursor, decoded when the caller takes it: chunks read
   * ahead wait in their compact form, so that their rows are made only
   * just before they are read (short-lived objects are cheap to collect).
   */
  fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunk<ReceivedRows>> {
    let wire = this.#readAhead.take(cursorId);
    if (!wire) {
      this.#readAhead.asked(cursorId);
      wire = this.#fetchCursor(conn, cursorId, maxRows);
    }
    return wire.then(decodeCursorChunk);
  }

  #fetchCursor(conn: number, cursorId: number, maxRows: number): Promise<CursorChunkWire> {
    return this.#hot(
      [HOT, ++this.#nextId, OP_FETCH_CURSOR, conn, cursorId, maxRows],
      [],
      (wire: CursorChunkWire) => wire,
      (wire: CursorChunkWire) =>
        this.#readAhead.arrived(cursorId, wire[1], wire[0].at(-1)?.type === "rows", () =>
          this.#fetchCursor(conn, cursorId, maxRows),
        ),
    );
  }

  closeCursor(conn: number, cursorId: number): Promise<void> {
    this.#readAhead.closed(cursorId);
    return this.#cleanup(() => this.#remote.closeCursor(conn, cursorId));
  }

  executeIfReadOnly(conn: number, stmt: Stmt, intMode: IntMode): Promise<StmtResult | null> {
    return this.#call(() => this.#remote.executeIfReadOnly(conn, stmt, intMode));
  }

  batchIfReadOnly(conn: number, steps: BatchStep[], intMode: IntMode): Promise<BatchResult | null> {
    return this.#call(() => this.#remote.batchIfReadOnly(conn, steps, intMode));
  }

  isReadOnly(conn: number, sqls: string[]): Promise<boolean> {
    return this.#call(() => this.#remote.isReadOnly(conn, sqls));
  }

  replicaApplyFrames(conn: number, frames: Uint8Array): Promise<ReplicaApplied> {
    // A copy of just these bytes, moved: the caller may still hold the rest of their buffer.
    const own = frames.slice();
    return this.#call(() => this.#remote.replicaApplyFrames(conn, transfer(own, [own.buffer])));
  }

  replicaWriteImage(conn: number, image: Uint8Array): Promise<void> {
    const own = image.slice();
    return this.#call(() => this.#remote.replicaWriteImage(conn, transfer(own, [own.buffer])));
  }

  replicaCopy(from: number, to: number): Promise<void> {
    return this.#call(() => this.#remote.replicaCopy(from, to));
  }

  replicaGuardOfflineWrites(conn: number): Promise<void> {
    return this.#call(() => this.#remote.replicaGuardOfflineWrites(conn));
  }

  replicaRefusal(conn: number): Promise<string | undefined> {
    return this.#call(() => this.#remote.replicaRefusal(conn));
  }

  replicaDiff(work: number, synced: number): Promise<ReplicaChange[]> {
    return this.#call(() => this.#remote.replicaDiff(work, synced));
  }

  exportDatabase(conn: number, options?: ExportOptions): Promise<Uint8Array> {
    return this.#call(() => this.#remote.exportDatabase(conn, options));
  }

  importDatabase(request: OpenRequest, bytes: Uint8Array): Promise<void> {
    return this.#call(() => this.#remote.importDatabase(request, bytes));
  }

  deleteDatabase(request: OpenRequest): Promise<void> {
    return this.#call(() => this.#remote.deleteDatabase(request));
  }

  rekeyDatabase(request: OpenRequest, to: EncryptionSpec | null): Promise<void> {
    return this.#call(() => this.#remote.rekeyDatabase(request, to));
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

/**
 * `lists` cut into parts of `size`, the last one marked: an array in
 * slices; any other iterable as it is taken, ending with a part that may be
 * empty (the end shows only once the iterable is done).
 */
function* partsOf<T>(lists: Iterable<T>, size: number): Generator<{ lists: T[]; last: boolean }> {
  if (Array.isArray(lists)) {
    for (let offset = 0; offset < lists.length; offset += size) {
      yield { lists: lists.slice(offset, offset + size), last: offset + size >= lists.length };
    }
    return;
  }
  let part: T[] = [];
  for (const list of lists) {
    part.push(list);
    if (part.length === size) {
      yield { lists: part, last: false };
      part = [];
    }
  }
  yield { lists: part, last: true };
}
