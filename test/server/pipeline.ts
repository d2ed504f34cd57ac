import type { Executor } from "./execute.js";
import { type BatchSink, CollectingSink, resolveSql, type StepSink } from "./execute.js";
import { decodePipelineBody, encodeStmtResult, type StreamRequest } from "./hrana-codec.js";
import { ProtocolError, StmtError } from "./hrana-errors.js";
import type { HranaStream, StreamRegistry } from "./stream-registry.js";
import type { WriteGate } from "./write-gate.js";

/** What the Hrana endpoints work with. */
export interface HranaServices {
  registry: StreamRegistry;
  executor: Executor;
  gate: WriteGate;
}

type Json = Record<string, unknown>;

// sqld's limits on stored SQL (`hrana/http/request.rs`).
const MAX_SQL_COUNT = 50;
const MAX_STORED_SQL_SIZE = 5000;

/**
 * `POST /v2/pipeline` and `/v3/pipeline` (identical here: `get_autocommit` and
 * `is_autocommit` are accepted on v2 too, as Turso Cloud does). Runs every request in
 * order on the baton's stream; a protocol error discards the stream and becomes a 400.
 */
export async function handlePipeline(services: HranaServices, raw: Buffer): Promise<Json> {
  const { registry, gate } = services;
  const body = decodePipelineBody(raw);
  const stream = registry.acquire(body.baton);
  const unlock = await stream.lock();
  try {
    const results: Json[] = [];
    for (const request of body.requests) results.push(await handleRequest(services, stream, request));
    return { baton: registry.release(stream), base_url: null, results };
  } catch (e) {
    registry.discard(stream);
    throw e;
  } finally {
    unlock();
    gate.notify();
  }
}

async function handleRequest(services: HranaServices, stream: HranaStream, request: StreamRequest): Promise<Json> {
  const { executor, registry } = services;
  const ok = (response: Json): Json => ({ type: "ok", response });
  const conn = () => {
    if (stream.conn === null) throw new ProtocolError("Stream for this baton was closed");
    return stream.conn;
  };
  try {
    switch (request.type) {
      case "close":
        registry.closeStream(stream);
        return ok({ type: "close" });
      case "execute": {
        const result = await executor.executeStmt(conn(), request.stmt, stream.sqls);
        return ok({ type: "execute", result: encodeStmtResult(result) });
      }
      case "batch": {
        const db = conn();
        const sink = new BatchCollector(request.batch.steps.length);
        await executor.runProgram(db, executor.toProgram(db, request.batch, stream.sqls), sink);
        return ok({ type: "batch", result: sink.toJson() });
      }
      case "sequence": {
        const db = conn();
        await executor.executeSequence(db, resolveSql(request.sql, request.sqlId, stream.sqls));
        return ok({ type: "sequence" });
      }
      case "describe": {
        const db = conn();
        const result = executor.describe(db, resolveSql(request.sql, request.sqlId, stream.sqls));
        return ok({ type: "describe", result });
      }
      case "store_sql":
        storeSql(stream.sqls, request.sqlId, request.sql);
        return ok({ type: "store_sql" });
      case "close_sql":
        stream.sqls.delete(request.sqlId);
        return ok({ type: "close_sql" });
      case "get_autocommit":
        return ok({ type: "get_autocommit", is_autocommit: !conn().inTransaction });
    }
  } catch (e) {
    if (e instanceof StmtError) return { type: "error", error: e.toProto() };
    throw e;
  }
}

function storeSql(sqls: Map<number, string>, sqlId: number, sql: string): void {
  if (sqls.has(sqlId)) throw new ProtocolError(`SQL text ${sqlId} already exists`);
  if (sqls.size >= MAX_SQL_COUNT) {
    throw new StmtError(`The server already stores ${sqls.size} SQL texts, it cannot store more`, "SQL_STORE_TOO_MANY");
  }
  const size = Buffer.byteLength(sql, "utf8");
  if (size > MAX_STORED_SQL_SIZE) {
    throw new StmtError(
      `The statement is too large to be stored: ${formatBytes(size)}/${formatBytes(MAX_STORED_SQL_SIZE)}`,
      "SQL_STORE_TOO_LARGE",
    );
  }
  sqls.set(sqlId, sql);
}

/** Sizes as the `bytesize` crate prints them in sqld's message. */
function formatBytes(n: number): string {
  return n < 1000 ? `${n} B` : `${(n / 1000).toFixed(1)} KB`;
}

/** Collects a batch's `step_results` and `step_errors` (null where a step was skipped). */
class BatchCollector implements BatchSink {
  readonly aborted = false;
  readonly #results: (Json | null)[];
  readonly #errors: (Json | null)[];
  #current = new CollectingSink();
  #started = 0;

  constructor(steps: number) {
    this.#results = new Array(steps).fill(null);
    this.#errors = new Array(steps).fill(null);
  }

  step(): StepSink {
    this.#current = new CollectingSink();
    this.#started = performance.now();
    return this.#current;
  }

  stepEnd(index: number, affectedRowCount: number, lastInsertRowid: bigint | null): void {
    const { cols, rows } = this.#current;
    const durationMs = Math.round((performance.now() - this.#started) * 1000) / 1000;
    this.#results[index] = encodeStmtResult({ cols, rows, affectedRowCount, lastInsertRowid, durationMs });
  }

  stepError(index: number, error: StmtError): void {
    this.#errors[index] = error.toProto();
  }

  toJson(): Json {
    return { step_results: this.#results, step_errors: this.#errors, replication_index: null };
  }
}
