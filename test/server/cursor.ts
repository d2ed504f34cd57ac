import type { ServerResponse } from "node:http";
import { type BatchSink, OutputAbortedError, type Program, type StepSink } from "./execute.js";
import { type ColJson, decodeCursorBody, encodeValue, type RowValue } from "./hrana-codec.js";
import { ProtocolError, StmtError } from "./hrana-errors.js";
import { sendJson } from "./http-reply.js";
import type { HranaServices } from "./pipeline.js";

/**
 * How cursor output is written. `sqld` (the default) copies sqld's deviations from the
 * Hrana 3 spec, which a client must tolerate: `step_end.last_insert_rowid` as a JSON
 * number, a trailing `{"type":"replication_index"}` entry, and a batch that fails to
 * convert answered with HTTP 500 `{"error":"Internal Error: ..."}` instead of an `error`
 * entry. `spec` writes what the spec says (rowid as a string, an `error` entry).
 */
export type CursorFlavour = "sqld" | "spec";

/**
 * `POST /v3/cursor`: runs a batch and streams newline-delimited JSON, a line per entry as
 * the statement steps (rows are not collected first). The first line carries the next
 * baton; the stream stays locked until the cursor ends, so a request sent with that baton
 * meanwhile waits, as in sqld. `cutAfter` destroys the socket after that many entries.
 */
export async function handleCursor(
  services: HranaServices,
  raw: Buffer,
  res: ServerResponse,
  flavour: CursorFlavour,
  cutAfter: number | undefined,
): Promise<void> {
  const { registry, executor, gate } = services;
  const body = decodeCursorBody(raw);
  const stream = registry.acquire(body.baton);
  const unlock = await stream.lock();
  try {
    const conn = stream.conn;
    if (conn === null) throw new ProtocolError("Stream for this baton was closed");
    let program: Program;
    try {
      program = executor.toProgram(conn, body.batch, stream.sqls);
    } catch (e) {
      if (!(e instanceof StmtError) || flavour === "spec") throw e;
      registry.discard(stream);
      sendJson(res, 500, { error: `Internal Error: ${e.message}` });
      return;
    }
    const sink = new CursorWriter(res, flavour, cutAfter);
    res.writeHead(200, { "content-type": "text/plain" });
    await sink.line(JSON.stringify({ baton: registry.release(stream), base_url: null }));
    try {
      await executor.runProgram(conn, program, sink);
      if (flavour === "sqld") await sink.entry({ type: "replication_index", replication_index: null });
    } catch (e) {
      if (!(e instanceof OutputAbortedError)) {
        registry.discard(stream);
        await sink.entry({ type: "error", error: { message: `Internal Error: ${String(e)}`, code: "INTERNAL" } });
      }
    }
    // After a cut the socket is being destroyed: ending the body would undo the fault.
    if (!sink.cut) res.end();
    registry.touch(stream);
  } catch (e) {
    if (e instanceof StmtError) {
      // The spec flavour: a batch that fails to convert is one `error` entry.
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(
        `${JSON.stringify({ baton: registry.release(stream), base_url: null })}\n${JSON.stringify({ type: "error", error: e.toProto() })}\n`,
      );
      return;
    }
    registry.discard(stream);
    throw e;
  } finally {
    unlock();
    gate.notify();
  }
}

/** Writes cursor entries to the response, honouring back-pressure and the cut fault. */
class CursorWriter implements BatchSink {
  readonly #res: ServerResponse;
  readonly #flavour: CursorFlavour;
  #remaining: number;
  #cut = false;
  #lastYield = performance.now();

  constructor(res: ServerResponse, flavour: CursorFlavour, cutAfter: number | undefined) {
    this.#res = res;
    this.#flavour = flavour;
    this.#remaining = cutAfter ?? Number.POSITIVE_INFINITY;
  }

  get aborted(): boolean {
    return this.#cut || this.#res.destroyed;
  }

  /** True once the cut fault fired. */
  get cut(): boolean {
    return this.#cut;
  }

  step(index: number): StepSink {
    const writer = this;
    return {
      begin: (cols: ColJson[]) => void this.entry({ type: "step_begin", step: index, cols }),
      row: (values: RowValue[]) => this.#row(values),
      get aborted() {
        return writer.aborted;
      },
    };
  }

  stepEnd(_index: number, affectedRowCount: number, lastInsertRowid: bigint | null): void {
    // Written by hand: sqld's rowid is a JSON number, and JSON.stringify would round an i64.
    const rowid =
      lastInsertRowid === null ? "null" : this.#flavour === "sqld" ? `${lastInsertRowid}` : `"${lastInsertRowid}"`;
    void this.line(`{"type":"step_end","affected_row_count":${affectedRowCount},"last_insert_rowid":${rowid}}`, true);
  }

  stepError(index: number, error: StmtError): void {
    void this.entry({ type: "step_error", step: index, error: error.toProto() });
  }

  /**
   * Writes a row. While the socket keeps taking data nothing else would run on the event
   * loop (other requests, or a client in this same process reading the rows), so stepping
   * also pauses for a turn of the loop every 10 ms.
   */
  #row(values: RowValue[]): Promise<void> | undefined {
    const pressure = this.entry({ type: "row", row: values.map(encodeValue) });
    if (performance.now() - this.#lastYield < 10) return pressure;
    const turn = () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          this.#lastYield = performance.now();
          resolve();
        }),
      );
    return pressure ? pressure.then(turn) : turn();
  }

  /** Writes one entry; returns a promise only when the socket is full (resolved once it drains). */
  entry(value: unknown): Promise<void> | undefined {
    return this.line(JSON.stringify(value), true);
  }

  /**
   * Writes one line (entries count towards the cut; the first line, with the baton, does
   * not). Once the cut count is reached the socket is destroyed as soon as the line has
   * been handed to it.
   */
  line(text: string, isEntry = false): Promise<void> | undefined {
    const res = this.#res;
    if (this.aborted) return undefined;
    if (isEntry) this.#remaining--;
    const cutHere = this.#remaining <= 0;
    if (cutHere) this.#cut = true;
    const more = res.write(`${text}\n`, cutHere ? () => res.destroy() : undefined);
    if (more || this.aborted) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }
}
