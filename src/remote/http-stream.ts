import { ErrorCode, LibsqlError } from "../errors.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  DescribeResult,
  IntMode,
  Stmt,
  StmtResult,
} from "../proto.js";
import type { TransportCursor, TransportStatement, TransportStream } from "../transport.js";
import { type CondStep, originalResults, probeSteps, withoutAutocommitConds } from "./autocommit-probe.js";
import { bufferedCursor } from "./buffered-cursor.js";
import { CallSignal } from "./call-signal.js";
import { type Endpoint, endpointFor } from "./endpoint.js";
import {
  type BatchJson,
  decodeBatchResult,
  decodeDescribeResult,
  decodePipelineResponse,
  decodeStmtResult,
  encodeStmt,
  object,
  type PipelineResponse,
  type PipelineResult,
  type RequestJson,
  type StmtJson,
  withSqlId,
} from "./hrana-json.js";
import { HttpCursor } from "./http-cursor.js";
import type { HttpSender } from "./http-sender.js";
import { NdjsonReader } from "./ndjson-reader.js";
import { isReadOnlySql } from "./read-only-sql.js";
import { errorFromProto, RemoteErrorCode, remoteError } from "./remote-errors.js";
import { SqlCache } from "./sql-cache.js";

/** What the streams of one transport share. */
export interface StreamContext {
  readonly sender: HttpSender;
  /** The server's endpoint, probed once per transport. */
  endpoint(): Promise<Endpoint>;
  /** Longest wait for one HTTP request (retries included) or one cursor read. */
  readonly timeoutMs: number | undefined;
  /** Aborts every call of the client. */
  readonly signal: AbortSignal | undefined;
}

/** How a stream uses `store_sql`. */
export type SqlCaching =
  /** One call, then closed: store only texts that repeat within a batch. */
  | "repeated"
  /** Interactive: store every text worth it, least recently used out first. */
  | "all";

type Json = Record<string, unknown>;

/** A queued request: built at flush time (the endpoint is known by then), in queue order. */
interface RequestEntry {
  kind: "request";
  /** Rides along with the next pipeline instead of causing one (`close_sql`). */
  lazy: boolean;
  /** Harmless to run twice (see retry.ts). */
  safe: boolean;
  /** Appends this entry's requests (stores first) to `out` and returns what handles its last result. */
  build(endpoint: Endpoint, out: RequestJson[]): (result: PipelineResult) => void;
  fail(error: unknown): void;
}

interface CursorRequest {
  kind: "cursor";
  steps: BatchStep[];
  /** The steps encoded, so that a bad argument fails the call rather than the flush. */
  batch: BatchJson;
  intMode: IntMode;
  safe: boolean;
  resolve(cursor: TransportCursor): void;
  fail(error: unknown): void;
}

type Entry = RequestEntry | CursorRequest;

const NO_ROWS: StmtResult = { columns: [], columnTypes: [], rows: [], rowsAffected: 0, lastInsertRowid: undefined };

/** The client's COMMIT/ROLLBACK of a transaction (a control statement, `wantRows: false`). */
function endsTransaction(stmt: Stmt): boolean {
  return stmt.wantRows === false && (stmt.sql === "COMMIT" || stmt.sql === "ROLLBACK");
}

function controlJson(sql: string): StmtJson {
  return encodeStmt({ sql, wantRows: false });
}

/**
 * One Hrana stream over HTTP (§1.12): the server connection is named by a baton
 * that changes with every response, so requests are strictly serial. Calls are
 * queued; everything queued by the time the previous response arrived goes out
 * as one pipeline. A `/v3/cursor` holds the stream until it is read, closed or
 * drained. Any HTTP-level failure kills the stream (the server drops it too):
 * later calls fail with the same code.
 *
 * The client's COMMIT/ROLLBACK ends the transaction and closes the stream, so
 * `close` rides in the same request, as `@libsql/client` sends it: a
 * transaction of N statements costs N+1 requests.
 */
export class HttpStream implements TransportStream {
  readonly #ctx: StreamContext;
  readonly #cache: SqlCache;
  readonly #caching: SqlCaching;
  #queue: Entry[] = [];
  #baton: string | null = null;
  /** The server holds a stream for us (a request went through). */
  #opened = false;
  #baseUrl: string | undefined;
  #flushing = false;
  #scheduled = false;
  #cursor: HttpCursor | undefined;
  #closeRequested = false;
  #closed = false;
  #dead: LibsqlError | undefined;
  #closeWaiters: Array<() => void> = [];

  constructor(ctx: StreamContext, caching: SqlCaching) {
    this.#ctx = ctx;
    this.#caching = caching;
    this.#cache = new SqlCache();
  }

  execute(stmt: Stmt, intMode: IntMode): Promise<StmtResult> {
    const neverSent = !this.#opened && !this.#flushing && this.#queue.length === 0;
    if (endsTransaction(stmt) && (this.#dead || neverSent)) {
      // Nothing to end on the server: the stream died (and the server dropped it) or never began.
      void this.close();
      if (stmt.sql === "ROLLBACK" || !this.#dead) return Promise.resolve(NO_ROWS);
    }
    let json: StmtJson;
    try {
      json = encodeStmt(stmt);
    } catch (e) {
      return Promise.reject(e);
    }
    const result = this.#request(isReadOnlySql(stmt.sql), (_endpoint, out) => {
      const id = this.#caching === "all" ? this.#cache.use(stmt.sql, out) : undefined;
      out.push({ type: "execute", stmt: withSqlId(json, id) });
      return (response) => decodeStmtResult(response.result, intMode);
    });
    if (endsTransaction(stmt)) this.#closeRequested = true;
    return result;
  }

  batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    try {
      const { entry, result } = this.#batchEntry(steps, intMode);
      this.#enqueue(entry);
      return result;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The queue entry of a batch (throws the RangeErrors of encoding), and its result. */
  #batchEntry(steps: BatchStep[], intMode: IntMode): { entry: RequestEntry; result: Promise<BatchResult> } {
    const encoded: CondStep<StmtJson>[] = steps.map((s) => ({ stmt: encodeStmt(s.stmt), condition: s.condition }));
    const repeated = this.#caching === "repeated" ? repeatedSql(steps) : undefined;
    return this.#entry(
      steps.every((s) => isReadOnlySql(s.stmt.sql)),
      (endpoint, out) => {
        const rewritten = endpoint.version < 3 ? withoutAutocommitConds(encoded, controlJson) : undefined;
        const sent = rewritten?.steps ?? encoded;
        const batch: BatchJson = {
          steps: sent.map(({ stmt, condition }) => {
            const sql = stmt.sql as string;
            const id = !repeated || repeated.has(sql) ? this.#cache.use(sql, out) : undefined;
            const step = { stmt: withSqlId(stmt, id) };
            return condition ? { condition, ...step } : step;
          }),
        };
        out.push({ type: "batch", batch });
        return (response) => {
          const result = decodeBatchResult(response.result, sent.length, intMode);
          return rewritten ? originalResults(result, rewritten.positions) : result;
        };
      },
    );
  }

  sequence(sql: string): Promise<void> {
    return this.#request(false, (_endpoint, out) => {
      out.push({ type: "sequence", sql });
      return () => undefined;
    });
  }

  describe(sql: string): Promise<DescribeResult> {
    return this.#request(true, (_endpoint, out) => {
      out.push({ type: "describe", sql });
      return (response) => decodeDescribeResult(response.result);
    });
  }

  getAutocommit(): Promise<boolean> {
    return this.#request(true, (endpoint, out) => {
      if (endpoint.version >= 3) {
        out.push({ type: "get_autocommit" });
        return (response) => response.is_autocommit === true;
      }
      // Hrana 2: BEGIN succeeds exactly when the connection is in autocommit mode (autocommit-probe.ts).
      out.push({ type: "batch", batch: { steps: probeSteps(0, controlJson) } });
      return (response) => decodeBatchResult(response.result, 2, "number").stepResults[0] !== null;
    });
  }

  async metadata(): Promise<ConnectionMetadata> {
    const [values, autocommit] = await Promise.all([
      this.execute({ sql: "SELECT last_insert_rowid(), changes(), total_changes()" }, "bigint"),
      this.getAutocommit(),
    ]);
    const row = values.rows[0] ?? [];
    return {
      lastInsertRowid: BigInt((row[0] as bigint | null) ?? 0n),
      changes: Number(row[1] ?? 0),
      totalChanges: Number(row[2] ?? 0),
      autocommit,
    };
  }

  async prepare(sql: string): Promise<TransportStatement> {
    // The text is stored for as long as the statement lives, so each run sends only its id.
    let sqlId: number | undefined;
    let info: DescribeResult;
    try {
      info = await this.#request(true, (_endpoint, out) => {
        sqlId = this.#caching === "all" ? this.#cache.pin(sql, out) : undefined;
        out.push(sqlId !== undefined ? { type: "describe", sql_id: sqlId } : { type: "describe", sql });
        return (response) => decodeDescribeResult(response.result);
      });
    } catch (e) {
      this.#unpin(sqlId);
      throw e;
    }
    const id = sqlId;
    return {
      info,
      query: (args, intMode, maxRows) => this.#query(sql, id, info.isReadonly, args, intMode, maxRows),
      close: async () => this.#unpin(id),
    };
  }

  #query(
    sql: string,
    sqlId: number | undefined,
    readonly: boolean,
    args: readonly ArgValue[] | Readonly<Record<string, ArgValue>>,
    intMode: IntMode,
    maxRows: number | undefined,
  ): Promise<StmtResult> {
    let json: StmtJson;
    try {
      json = encodeStmt(
        Array.isArray(args)
          ? { sql, args: [...(args as readonly ArgValue[])] }
          : { sql, namedArgs: { ...(args as Readonly<Record<string, ArgValue>>) } },
      );
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request(readonly, (_endpoint, out) => {
      out.push({ type: "execute", stmt: withSqlId(json, sqlId) });
      return (response) => {
        const result = decodeStmtResult(response.result, intMode);
        // The protocol has no row limit: the server sends every row, and `get()` keeps the first.
        return maxRows === undefined ? result : { ...result, rows: result.rows.slice(0, maxRows) };
      };
    });
  }

  #unpin(sqlId: number | undefined): void {
    if (sqlId === undefined || this.#closeRequested || this.#closed || this.#dead) return;
    const out: RequestJson[] = [];
    this.#cache.unpin(sqlId, out);
    for (const request of out) {
      this.#enqueue({
        kind: "request",
        lazy: true,
        safe: true,
        build: (_endpoint, sink) => {
          sink.push(request);
          return () => {};
        },
        fail: () => {},
      });
    }
  }

  openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    let batch: BatchJson;
    try {
      batch = {
        steps: steps.map((s) => {
          const step = { stmt: encodeStmt(s.stmt) };
          return s.condition ? { condition: s.condition, ...step } : step;
        }),
      };
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, fail) => {
      this.#enqueue({
        kind: "cursor",
        steps,
        batch,
        intMode,
        safe: steps.every((s) => isReadOnlySql(s.stmt.sql)),
        resolve,
        fail,
      });
    });
  }

  /** True once the stream is closed or dead. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the stream: a pending request carries the `close`, else it goes alone (if the server has a stream). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closeRequested = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#schedule();
    return done;
  }

  /** Queues one request whose last result is decoded by what `build` returns. */
  #request<T>(safe: boolean, build: (endpoint: Endpoint, out: RequestJson[]) => (response: Json) => T): Promise<T> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    const { entry, result } = this.#entry(safe, build);
    this.#enqueue(entry);
    return result;
  }

  /** A queue entry for one request, and the promise its result settles. */
  #entry<T>(
    safe: boolean,
    build: (endpoint: Endpoint, out: RequestJson[]) => (response: Json) => T,
  ): { entry: RequestEntry; result: Promise<T> } {
    let entry: RequestEntry | undefined;
    const result = new Promise<T>((resolve, reject) => {
      entry = {
        kind: "request",
        lazy: false,
        safe,
        build: (endpoint, out) => {
          const decode = build(endpoint, out);
          return (outcome) => {
            if (!outcome.ok) {
              reject(errorFromProto(outcome.error));
              return;
            }
            try {
              resolve(decode(outcome.response));
            } catch (e) {
              reject(e);
            }
          };
        },
        fail: reject,
      };
    });
    return { entry: entry as RequestEntry, result };
  }

  /** Why a new call cannot be queued, if it cannot. */
  #refusal(): LibsqlError | undefined {
    if (this.#dead) {
      return new LibsqlError(this.#dead.message, this.#dead.code, undefined, undefined, this.#dead);
    }
    if (this.#closeRequested || this.#closed) {
      return remoteError(RemoteErrorCode.HRANA_CLOSED_ERROR, "The stream is closed");
    }
    return undefined;
  }

  #enqueue(entry: Entry): void {
    this.#queue.push(entry);
    const urgent = entry.kind === "cursor" || !entry.lazy;
    // Another request waits: the open cursor's rest goes to memory so that the stream frees up.
    if (urgent && this.#cursor) void this.#cursor.drain();
    if (urgent) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#cursor || this.#closed) return;
    const urgent = this.#queue.some((e) => e.kind === "cursor" || !e.lazy);
    if (!urgent) {
      if (!this.#closeRequested) return;
      if (!this.#opened || this.#baton === null || this.#dead) {
        this.#finishClose();
        return;
      }
    }
    this.#flushing = true;
    try {
      let endpoint: Endpoint;
      try {
        endpoint = await this.#ctx.endpoint();
      } catch (e) {
        // Nothing was sent: the calls fail, the stream is as it was.
        for (const entry of this.#queue.splice(0)) entry.fail(e);
        if (this.#closeRequested && !this.#opened) this.#finishClose();
        return;
      }
      if (this.#baseUrl !== undefined) endpoint = endpointFor(this.#baseUrl, endpoint.version);
      const head = this.#queue[0];
      if (head?.kind === "cursor") {
        this.#queue.shift();
        if (endpoint.cursorUrl !== undefined) await this.#openCursor(head, endpoint.cursorUrl);
        else this.#queue.unshift(this.#bufferedCursorRequest(head));
      }
      if (this.#queue[0]?.kind !== "cursor" && !this.#cursor) await this.#sendPipeline(endpoint);
    } catch (e) {
      // A bug of ours, not the server's: fail loudly rather than leave calls waiting forever.
      this.#die(remoteError(ErrorCode.INTERNAL_ERROR, `The HTTP stream failed: ${String(e)}`, e));
    } finally {
      this.#flushing = false;
      if (this.#queue.length > 0 || (this.#closeRequested && !this.#closed)) this.#schedule();
    }
  }

  /** Hrana 2 has no cursors: the batch runs in one request and the cursor reads its result from memory. */
  #bufferedCursorRequest(cursor: CursorRequest): RequestEntry {
    const { entry, result } = this.#batchEntry(cursor.steps, cursor.intMode);
    result.then((r) => cursor.resolve(bufferedCursor(r)), cursor.fail);
    return entry;
  }

  async #sendPipeline(endpoint: Endpoint): Promise<void> {
    const entries: RequestEntry[] = [];
    while (this.#queue[0]?.kind === "request") entries.push(this.#queue.shift() as RequestEntry);
    const closing = this.#closeRequested && this.#queue.length === 0;
    const requests: RequestJson[] = [];
    const handlers: Array<{ entry: RequestEntry; at: number; handle: (result: PipelineResult) => void }> = [];
    for (const entry of closing ? entries.filter((e) => !e.lazy) : entries) {
      try {
        const handle = entry.build(endpoint, requests);
        handlers.push({ entry, at: requests.length - 1, handle });
      } catch (e) {
        entry.fail(e);
      }
    }
    if (closing) requests.push({ type: "close" });
    if (requests.length === 0) return;
    const fresh = !this.#opened;
    const safe = fresh && closing && handlers.every((h) => h.entry.safe);
    const call = new CallSignal(this.#ctx.signal);
    call.arm(this.#ctx.timeoutMs);
    let response: PipelineResponse;
    try {
      response = await this.#ctx.sender.send(
        { url: endpoint.pipelineUrl, method: "POST", body: JSON.stringify(this.#body({ requests })) },
        safe ? "safe" : "unsent-only",
        call,
        async (r) => decodePipelineResponse(parseJson(await r.text()), requests),
      );
    } catch (e) {
      this.#die(e);
      for (const h of handlers) h.entry.fail(this.#dead);
      return;
    } finally {
      call.dispose();
    }
    this.#opened = true;
    this.#baton = response.baton;
    if (response.baseUrl !== null) this.#baseUrl = response.baseUrl;
    for (const h of handlers) h.handle(response.results[h.at] as PipelineResult);
    if (response.baton === null || closing) {
      if (closing) this.#finishClose();
      else this.#die(remoteError(RemoteErrorCode.HRANA_CLOSED_ERROR, "The server closed the stream"));
    }
  }

  async #openCursor(entry: CursorRequest, url: string): Promise<void> {
    const fresh = !this.#opened;
    const batch = entry.batch;
    const call = new CallSignal(this.#ctx.signal);
    call.arm(this.#ctx.timeoutMs);
    let opened: { reader: NdjsonReader; head: Json };
    try {
      opened = await this.#ctx.sender.send(
        { url, method: "POST", body: JSON.stringify(this.#body({ batch })) },
        fresh && entry.safe ? "safe" : "unsent-only",
        call,
        async (response) => {
          if (!response.body) throw remoteError(RemoteErrorCode.HRANA_PROTO_ERROR, "The cursor response has no body");
          const reader = new NdjsonReader(response.body);
          try {
            return { reader, head: object(await reader.next(), "cursor response") };
          } catch (e) {
            await reader.cancel();
            throw e;
          }
        },
      );
    } catch (e) {
      call.dispose();
      this.#die(e);
      entry.fail(this.#dead);
      return;
    }
    call.disarm();
    this.#opened = true;
    this.#baton = typeof opened.head.baton === "string" ? opened.head.baton : null;
    if (typeof opened.head.base_url === "string") this.#baseUrl = opened.head.base_url;
    const cursor: HttpCursor = new HttpCursor(opened.reader, call, this.#ctx.timeoutMs, entry.intMode, (error) =>
      this.#cursorEnded(cursor, error),
    );
    this.#cursor = cursor;
    entry.resolve(cursor);
    if (this.#queue.some((e) => e.kind === "cursor" || !e.lazy)) void cursor.drain();
  }

  #cursorEnded(cursor: HttpCursor, error: LibsqlError | undefined): void {
    if (this.#cursor !== cursor) return;
    this.#cursor = undefined;
    if (error) this.#die(error);
    else if (this.#baton === null && !this.#closeRequested) {
      this.#die(remoteError(RemoteErrorCode.HRANA_CLOSED_ERROR, "The server closed the stream"));
    }
    this.#schedule();
  }

  #body<T extends object>(body: T): T & { baton?: string } {
    // As @libsql/hrana-client: no baton key at all on a fresh stream.
    return this.#baton !== null ? { baton: this.#baton, ...body } : body;
  }

  /** The stream is unusable: every queued and later call fails with `error`'s code. */
  #die(error: unknown): void {
    if (this.#dead) return;
    this.#dead =
      error instanceof LibsqlError
        ? error
        : remoteError(RemoteErrorCode.NETWORK_ERROR, `The stream failed: ${String(error)}`, error);
    const refusal = this.#refusal();
    for (const entry of this.#queue.splice(0)) entry.fail(refusal);
    void this.#cursor?.close();
    this.#finishClose();
  }

  #finishClose(): void {
    this.#closed = true;
    for (const entry of this.#queue.splice(0)) entry.fail(this.#refusal());
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }
}

/** SQL texts that occur more than once among `steps`. */
function repeatedSql(steps: readonly BatchStep[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { stmt } of steps) {
    if (seen.has(stmt.sql)) repeated.add(stmt.sql);
    seen.add(stmt.sql);
  }
  return repeated;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw remoteError(RemoteErrorCode.HRANA_PROTO_ERROR, "The server's response is not JSON");
  }
}
