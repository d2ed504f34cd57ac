import type { EngineApi, IntMode, ReplicaEngineApi, ReplicaOfflineApi, RunManyPart } from "../proto.js";
import type { EncodedError } from "./error-codec.js";
import type {
  ArgsListWire,
  BatchResultWire,
  CursorChunkWire,
  RowsWire,
  RunManyWire,
  StepsWire,
  StmtResultWire,
  StmtWire,
} from "./hot-wire.js";
import type { LaneTiming } from "./shared-lane.js";

/**
 * The key of the message that gives the worker a `MessagePort` to serve
 * (`worker.postMessage({ [CONNECT_MESSAGE]: port }, [port])`). Each transport
 * talks over a port of its own, or a channel of its own on the worker's
 * messages (`worker-channel.ts`), so that closing one never disturbs another
 * on the same worker.
 */
export const CONNECT_MESSAGE = "libsql-web:connect";

/**
 * The engine calls made once per statement or per chunk of rows. They skip
 * comlink's generic machinery (a random message id, wire-value wrappers and
 * a proxy per call: ~40 µs a round trip here, against ~5 µs for a compact
 * message) and travel as compact tuples on the same port, so that they stay
 * in order with the calls comlink carries. See `hot-wire.ts` for payloads.
 */
export type HotCall = "execute" | "batch" | "query" | "runMany" | "fetchCursor";

/** What comlink serves on each connected port: the engine's other calls (embedded replicas' too), plus its lifetime lock. */
export interface WorkerApi extends Omit<EngineApi, HotCall>, ReplicaEngineApi, ReplicaOfflineApi {
  /**
   * The name of a Web Lock the worker holds until it ends: once the page can
   * take it, the worker is gone. Null where Web Locks do not exist.
   */
  lifetimeLock(): Promise<string | null>;
}

/** First element of every hot message (comlink's own messages are objects, never arrays). */
export const HOT = "libsql-web:hot";

export const OP_EXECUTE = 0;
export const OP_BATCH = 1;
export const OP_QUERY = 2;
export const OP_FETCH_CURSOR = 3;
export const OP_RUN_MANY = 4;
/** Not a call: the page gives the worker a shared lane for this port (see `shared-lane.ts`). */
export const OP_LANE = 5;

/** The message that gives the worker a shared lane. */
export type LaneOffer = [marker: typeof HOT, id: 0, op: typeof OP_LANE, buffer: SharedArrayBuffer, timing: LaneTiming];

/** A hot call, page to worker. */
export type HotRequest =
  | [marker: typeof HOT, id: number, op: typeof OP_EXECUTE, conn: number, stmt: StmtWire, intMode: IntMode]
  | [marker: typeof HOT, id: number, op: typeof OP_BATCH, conn: number, steps: StepsWire, intMode: IntMode]
  | [
      marker: typeof HOT,
      id: number,
      op: typeof OP_QUERY,
      conn: number,
      stmtId: number,
      args: unknown,
      intMode: IntMode,
      maxRows: number | undefined,
    ]
  | [marker: typeof HOT, id: number, op: typeof OP_FETCH_CURSOR, conn: number, cursorId: number, maxRows: number]
  | [
      marker: typeof HOT,
      id: number,
      op: typeof OP_RUN_MANY,
      conn: number,
      stmtId: number,
      argsList: ArgsListWire,
      part?: RunManyPart,
    ];

/** What a hot call returns, encoded. */
export type HotResult = StmtResultWire | BatchResultWire | CursorChunkWire | RunManyWire;

/** Third element of a hot answer: what it carries. */
export const ANSWER_RESULT = 0;
export const ANSWER_ERROR = 1;
/** Rows of an `execute` or `query` sent ahead of its result, while the statement still runs. */
export const ANSWER_ROWS_AHEAD = 2;

/** The answer to a hot call: its result, the error it threw, or rows ahead of its result. */
export type HotResponse =
  | [marker: typeof HOT, id: number, kind: typeof ANSWER_RESULT, value: HotResult]
  | [marker: typeof HOT, id: number, kind: typeof ANSWER_ERROR, error: EncodedError]
  | [marker: typeof HOT, id: number, kind: typeof ANSWER_ROWS_AHEAD, rows: RowsWire, columns: string[]];
