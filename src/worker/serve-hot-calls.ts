import type { ArgValue, EngineApi, RunManyResult } from "../proto.js";
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
  type StepsWire,
  type StmtWire,
} from "./hot-wire.js";
import {
  ANSWER_ERROR,
  ANSWER_RESULT,
  ANSWER_ROWS_AHEAD,
  HOT,
  type HotCall,
  type HotRequest,
  type HotResponse,
  type HotResult,
  OP_BATCH,
  OP_EXECUTE,
  OP_FETCH_CURSOR,
  OP_QUERY,
  OP_RUN_MANY,
} from "./worker-protocol.js";

/**
 * Serves the hot calls (see `HotCall`) arriving on `port` with `engine`, in
 * the worker, beside comlink on the same port. Each answer moves its typed
 * arrays and blobs; an error travels encoded (`encodeError`), so that
 * `LibsqlError` keeps its class and codes.
 */
export function serveHotCalls(port: MessagePort, engine: Pick<EngineApi<RowsWire>, HotCall>): void {
  const reply = (id: number, value: HotResult, transfer: Transferable[]) => {
    try {
      port.postMessage([HOT, id, ANSWER_RESULT, value] satisfies HotResponse, transfer);
    } catch (error) {
      fail(id, new TypeError(`the result could not be sent: ${(error as Error)?.message ?? error}`));
    }
  };
  const fail = (id: number, error: unknown) => {
    try {
      port.postMessage([HOT, id, ANSWER_ERROR, encodeError(error)] satisfies HotResponse);
    } catch {
      port.postMessage([
        HOT,
        id,
        ANSWER_ERROR,
        encodeError(new TypeError("the error could not be sent")),
      ] satisfies HotResponse);
    }
  };
  // Rows the engine read while the statement still runs go to the page at once.
  const ahead = (id: number) => (rows: RowsWire, columns: string[]) => {
    const transfer: Transferable[] = [];
    port.postMessage([HOT, id, ANSWER_ROWS_AHEAD, encodeRows(rows, transfer), columns] satisfies HotResponse, transfer);
  };
  port.addEventListener("message", (event: MessageEvent) => {
    const request = event.data as HotRequest;
    if (!Array.isArray(request) || request[0] !== HOT) return;
    const id = request[1];
    let pending: Promise<never>;
    let encode: (value: never, transfer: Transferable[]) => HotResult;
    try {
      switch (request[2]) {
        case OP_EXECUTE:
          pending = engine.execute(
            request[3],
            decodeStmt(request[4] as StmtWire),
            request[5],
            ahead(id),
          ) as Promise<never>;
          encode = encodeStmtResult;
          break;
        case OP_BATCH:
          pending = engine.batch(request[3], decodeSteps(request[4] as StepsWire), request[5]) as Promise<never>;
          encode = encodeBatchResult;
          break;
        case OP_QUERY: {
          const args = request[5] as ArgValue[] | Record<string, ArgValue>;
          pending = engine.query(request[3], request[4], args, request[6], request[7], ahead(id)) as Promise<never>;
          encode = encodeStmtResult;
          break;
        }
        case OP_RUN_MANY:
          pending = engine.runMany(request[3], request[4], decodeArgsList(request[5])) as Promise<never>;
          encode = (result: RunManyResult) => [result.rowsAffected, result.lastInsertRowid];
          break;
        case OP_FETCH_CURSOR:
          pending = engine.fetchCursor(request[3], request[4], request[5]) as Promise<never>;
          encode = encodeCursorChunk;
          break;
        default:
          throw new TypeError(`unknown call ${String(request[2])}`);
      }
    } catch (error) {
      fail(id, error);
      return;
    }
    pending.then(
      (value) => {
        const transfer: Transferable[] = [];
        let wire: HotResult;
        try {
          wire = encode(value, transfer);
        } catch (error) {
          fail(id, error);
          return;
        }
        reply(id, wire, transfer);
      },
      (error: unknown) => fail(id, error),
    );
  });
  port.start();
}
