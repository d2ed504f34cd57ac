import type { ArgValue, EngineApi, RowsAhead, RunManyResult } from "../proto.js";
import { encodeError } from "./error-codec.js";
import {
  decodeArgsList,
  decodeSteps,
  decodeStmt,
  encodeBatchResult,
  encodeCursorChunk,
  encodeRows,
  encodeStmtResult,
  type RowsWire,
} from "./hot-wire.js";
import type { ChannelPort } from "./worker-channel.js";
import { laneClock, WorkerLane } from "./worker-lane.js";
import {
  ANSWER_ERROR,
  ANSWER_RESULT,
  ANSWER_ROWS_AHEAD,
  HOT,
  type HotCall,
  type HotRequest,
  type HotResponse,
  type HotResult,
  type LaneOffer,
  OP_BATCH,
  OP_EXECUTE,
  OP_FETCH_CURSOR,
  OP_LANE,
  OP_QUERY,
  OP_RUN_MANY,
} from "./worker-protocol.js";

/**
 * What comlink's `expose` listens on and answers through (the shape of its
 * `Endpoint`; comlink itself is imported only by `worker/main.ts` and the
 * page's `worker-engine.ts`).
 */
export interface ExposeEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
}

/**
 * Serves the hot calls (see `HotCall`) arriving on `port` (a `MessagePort`,
 * or a channel on the worker's own: `worker-channel.ts`) with `engine`, in
 * the worker, beside comlink on the same port. Each answer moves its typed
 * arrays and blobs; an error travels encoded (`encodeError`), so that
 * `LibsqlError` keeps its class and codes. When the page gives a shared
 * lane (`OP_LANE`), calls also come and go there (see `shared-lane.ts`).
 * Returns the endpoint to `expose` comlink on: it sees the port's other
 * messages only (comlink answers every message it sees, even ours), each
 * handed over in the order the page posted it.
 */
export function serveHotCalls(
  port: MessagePort | ChannelPort,
  engine: Pick<EngineApi<RowsWire>, HotCall>,
): ExposeEndpoint {
  let lane: WorkerLane | undefined;
  /** Posts an answer; one that cannot be sent (e.g. a `DataCloneError`) becomes an error answer saying so. */
  const reply = (id: number, kind: number, value: unknown, transfer: Transferable[]) => {
    try {
      port.postMessage([HOT, id, kind, value] as HotResponse, transfer);
    } catch (error) {
      const why =
        kind === ANSWER_ERROR ? "the error could not be sent" : `the result could not be sent: ${messageOf(error)}`;
      port.postMessage([HOT, id, ANSWER_ERROR, encodeError(new TypeError(why))] satisfies HotResponse, []);
    }
  };
  /** Starts a hot call and answers it: on `fromLane` when it came from there, else by message. */
  const serve = (request: HotRequest, fromLane: WorkerLane | undefined) => {
    const id = request[1];
    // Rows the engine read while the statement still runs go to the page at once; the answer follows them by message.
    let ahead = false;
    const onRows = (rows: RowsWire, columns: string[]) => {
      ahead = true;
      const transfer: Transferable[] = [];
      port.postMessage(
        [HOT, id, ANSWER_ROWS_AHEAD, encodeRows(rows, transfer), columns] satisfies HotResponse,
        transfer,
      );
    };
    let call: Started;
    try {
      call = start(engine, request, onRows);
    } catch (error) {
      call = { pending: Promise.reject(error), encode: () => [] as never };
    }
    laneClock.inFlight++;
    const answer = (kind: number, value: unknown, transfer: Transferable[]) => {
      laneClock.inFlight--;
      const send = () => reply(id, kind, value, transfer);
      if (fromLane) fromLane.answer(kind, value, ahead, send);
      else if (lane) lane.answerByMessage(send);
      else send();
    };
    call.pending.then(
      (value) => {
        const transfer: Transferable[] = [];
        let wire: HotResult;
        try {
          wire = call.encode(value, transfer);
        } catch (error) {
          answer(ANSWER_ERROR, encodeError(error), []);
          return;
        }
        answer(ANSWER_RESULT, wire, transfer);
      },
      (error: unknown) => answer(ANSWER_ERROR, encodeError(error), []),
    );
  };
  const others = new Set<(event: MessageEvent) => void>();
  port.addEventListener("message", (received: Event) => {
    const event = received as MessageEvent;
    laneClock.eventLoopRan = performance.now();
    const request = event.data as HotRequest | LaneOffer;
    const hot = Array.isArray(request) && request[0] === HOT;
    if (hot && request[2] === OP_LANE) {
      const offered: WorkerLane = new WorkerLane(request[3], request[4], (laneRequest) =>
        serve(laneRequest as HotRequest, offered),
      );
      lane = offered;
    }
    lane?.received();
    if (!hot) {
      for (const listener of others) listener(event);
      // Comlink closes a MessagePort it released; this endpoint is not one, so close it here once comlink answered.
      if ((event.data as { type?: unknown })?.type === "RELEASE") setTimeout(() => port.close());
    } else if (request[2] !== OP_LANE) serve(request, undefined);
    lane?.handled();
  });
  port.start();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => port.postMessage(message, transfer ?? []),
    addEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
      others.add(listener as (event: MessageEvent) => void);
    },
    removeEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
      others.delete(listener as (event: MessageEvent) => void);
    },
  };
}

/** A hot call started: its promise, and how its value is encoded for the page. */
interface Started {
  pending: Promise<never>;
  encode: (value: never, transfer: Transferable[]) => HotResult;
}

function start(engine: Pick<EngineApi<RowsWire>, HotCall>, request: HotRequest, onRows: RowsAhead<RowsWire>): Started {
  switch (request[2]) {
    case OP_EXECUTE:
      return {
        pending: engine.execute(request[3], decodeStmt(request[4]), request[5], onRows) as Promise<never>,
        encode: encodeStmtResult,
      };
    case OP_BATCH:
      return {
        pending: engine.batch(request[3], decodeSteps(request[4]), request[5]) as Promise<never>,
        encode: encodeBatchResult,
      };
    case OP_QUERY: {
      const args = request[5] as ArgValue[] | Record<string, ArgValue>;
      return {
        pending: engine.query(request[3], request[4], args, request[6], request[7], onRows) as Promise<never>,
        encode: encodeStmtResult,
      };
    }
    case OP_RUN_MANY:
      return {
        pending: engine.runMany(request[3], request[4], decodeArgsList(request[5]), request[6]) as Promise<never>,
        encode: (result: RunManyResult) => [result.rowsAffected, result.lastInsertRowid],
      };
    case OP_FETCH_CURSOR:
      return {
        pending: engine.fetchCursor(request[3], request[4], request[5]) as Promise<never>,
        encode: encodeCursorChunk,
      };
    default:
      throw new TypeError(`unknown call ${String((request as unknown[])[2])}`);
  }
}

function messageOf(error: unknown): string {
  return String((error as Error)?.message ?? error);
}
