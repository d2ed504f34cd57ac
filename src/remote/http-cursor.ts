import { LibsqlError } from "../errors.js";
import type { CursorChunk, CursorEntry, IntMode, ResultValue } from "../proto.js";
import type { TransportCursor } from "../transport.js";
import type { CallSignal } from "./call-signal.js";
import { decodeCols, decodeError, decodeRow, decodeRowid, object } from "./hrana-json.js";
import { type NdjsonReader, NOTHING } from "./ndjson-reader.js";
import { RemoteErrorCode, remoteError } from "./remote-errors.js";

/** A cursor entry as read, one row at a time. */
type Item = Exclude<CursorEntry, { type: "rows" }> | { type: "row"; row: ResultValue[] };

/**
 * A `/v3/cursor` response read as the client asks for rows (§1.13): entries are
 * decoded line by line and rows grouped into `rows` entries of at most
 * `maxRows`, so memory stays flat. sqld's extra entries (`replication_index`)
 * are skipped and its numeric `last_insert_rowid` accepted.
 *
 * While the cursor is open its stream can take no other request; `onEnd` runs
 * once when it no longer holds the stream (read to the end, closed, failed).
 * `drain()` reads the rest into memory, for when another request is waiting.
 */
export class HttpCursor implements TransportCursor {
  readonly #reader: NdjsonReader;
  readonly #call: CallSignal;
  readonly #timeoutMs: number | undefined;
  readonly #intMode: IntMode;
  readonly #onEnd: (error?: LibsqlError) => void;
  #drained: Item[] | undefined;
  #reading: Promise<unknown> = Promise.resolve();
  #stepOpen = false;
  #ended = false;
  #error: LibsqlError | undefined;

  constructor(
    reader: NdjsonReader,
    call: CallSignal,
    timeoutMs: number | undefined,
    intMode: IntMode,
    onEnd: (error?: LibsqlError) => void,
  ) {
    this.#reader = reader;
    this.#call = call;
    this.#timeoutMs = timeoutMs;
    this.#intMode = intMode;
    this.#onEnd = onEnd;
  }

  fetch(maxRows: number): Promise<CursorChunk> {
    return this.#serial(() => this.#fetch(Math.max(1, maxRows)));
  }

  /** Runs reads one after another, in call order. */
  #serial<T>(read: () => Promise<T>): Promise<T> {
    const result = this.#reading.then(read);
    this.#reading = result.catch(() => {});
    return result;
  }

  async #fetch(maxRows: number): Promise<CursorChunk> {
    const entries: CursorEntry[] = [];
    let rows: ResultValue[][] = [];
    const flushRows = () => {
      if (rows.length > 0) entries.push({ type: "rows", rows });
      rows = [];
    };
    for (;;) {
      if (rows.length >= maxRows) {
        flushRows();
        return { entries, done: false };
      }
      let item = this.#nextNow();
      if (item === NOTHING) item = await this.#next();
      if (item === undefined) {
        flushRows();
        return { entries, done: true };
      }
      if (item.type === "row") {
        rows.push(item.row);
      } else {
        flushRows();
        entries.push(item);
      }
    }
  }

  /** The next item: from memory, or a line already received, or else from the network. */
  async #next(): Promise<Item | undefined> {
    for (;;) {
      const now = this.#nextNow();
      if (now !== NOTHING) return now;
      let json: unknown;
      this.#call.arm(this.#timeoutMs);
      try {
        json = await this.#call.race(this.#reader.next());
      } catch (e) {
        this.#fail(e);
        throw this.#error;
      } finally {
        this.#call.disarm();
      }
      const item = this.#accept(json);
      if (item !== NOTHING) return item;
    }
  }

  /** The next item if it is here without waiting, else `NOTHING`. */
  #nextNow(): Item | undefined | typeof NOTHING {
    for (;;) {
      const drained = this.#drained?.shift();
      if (drained) return drained;
      if (this.#error) throw this.#error;
      if (this.#ended) return undefined;
      let json: unknown;
      try {
        json = this.#reader.buffered();
      } catch (e) {
        this.#fail(e);
        throw this.#error;
      }
      if (json === NOTHING) return NOTHING;
      const item = this.#accept(json);
      if (item !== NOTHING) return item;
    }
  }

  /** Decodes a line (undefined: the end of the body); `NOTHING` for entries that are skipped. */
  #accept(json: unknown): Item | undefined | typeof NOTHING {
    try {
      if (json === undefined) {
        if (this.#stepOpen) {
          throw remoteError(
            RemoteErrorCode.NETWORK_ERROR,
            "The server's cursor response ended in the middle of a step",
          );
        }
        this.#end();
        return undefined;
      }
      return this.#decode(json) ?? NOTHING;
    } catch (e) {
      this.#fail(e);
      throw this.#error;
    }
  }

  #decode(json: unknown): Item | undefined {
    const entry = object(json, "cursor entry");
    switch (entry.type) {
      case "step_begin":
        this.#stepOpen = true;
        return { type: "step_begin", step: Number(entry.step), ...decodeCols(entry.cols) };
      case "row":
        return { type: "row", row: decodeRow(entry.row, this.#intMode) };
      case "step_end":
        this.#stepOpen = false;
        return {
          type: "step_end",
          rowsAffected: typeof entry.affected_row_count === "number" ? entry.affected_row_count : 0,
          lastInsertRowid: decodeRowid(entry.last_insert_rowid),
        };
      case "step_error":
        this.#stepOpen = false;
        return { type: "step_error", step: Number(entry.step), error: decodeError(entry.error) };
      case "error":
        this.#stepOpen = false;
        return { type: "error", error: decodeError(entry.error) };
      default:
        // sqld's `replication_index`, and whatever later versions add.
        return undefined;
    }
  }

  /**
   * Reads everything left into memory and gives the stream back. Used only when
   * another request on the same stream is waiting, so that it does not wait for
   * the caller to finish reading.
   */
  drain(): Promise<void> {
    return this.#serial(async () => {
      if (this.#ended) return;
      const items: Item[] = [...(this.#drained ?? [])];
      this.#drained = undefined;
      try {
        for (let item = await this.#next(); item !== undefined; item = await this.#next()) items.push(item);
      } catch {
        // #next recorded the error; the reader gets it after the items read before it.
      }
      this.#drained = items;
    });
  }

  async close(): Promise<void> {
    this.#drained = [];
    if (this.#ended) return;
    this.#ended = true;
    // Cancel first, so that the server has stopped by the time the stream is used again.
    await this.#reader.cancel();
    this.#release();
  }

  #fail(error: unknown): void {
    this.#error =
      error instanceof LibsqlError
        ? error
        : remoteError(
            RemoteErrorCode.NETWORK_ERROR,
            `The server's cursor response was cut off: ${String(error)}`,
            error,
          );
    if (this.#ended) return;
    this.#ended = true;
    void this.#reader.cancel();
    this.#release(this.#error);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
  }

  #release(error?: LibsqlError): void {
    this.#call.dispose();
    this.#onEnd(error);
  }
}
