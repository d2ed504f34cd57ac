import { RemoteErrorCode, remoteError } from "./remote-errors.js";

/** What `buffered()` returns when no whole line is waiting. */
export const NOTHING: unique symbol = Symbol("nothing");

/**
 * Reads newline-delimited JSON from a response body as the caller asks for it,
 * holding only the current partial line: memory stays flat however long the
 * body is, and the server is slowed down (by flow control) rather than
 * buffered when the caller reads slowly.
 */
export class NdjsonReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #text = "";
  #position = 0;
  #eof = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /**
   * The next JSON value, or undefined at the end of the body. A body that ends
   * in the middle of a line was cut off (`NETWORK_ERROR`); a line that is not
   * JSON is `HRANA_PROTO_ERROR`. A failed read rejects as the body's stream does.
   */
  async next(): Promise<unknown> {
    for (;;) {
      const buffered = this.buffered();
      if (buffered !== NOTHING) return buffered;
      if (this.#eof) {
        const rest = this.#text.slice(this.#position).trim();
        this.#text = "";
        this.#position = 0;
        if (rest !== "") {
          throw remoteError(RemoteErrorCode.NETWORK_ERROR, "The server's response ended in the middle of an entry");
        }
        return undefined;
      }
      this.#text = this.#text.slice(this.#position);
      this.#position = 0;
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#text += this.#decoder.decode();
        this.#eof = true;
      } else {
        this.#text += this.#decoder.decode(value, { stream: true });
      }
    }
  }

  /** The next JSON value if a whole line is already here, else `NOTHING` (without reading). */
  buffered(): unknown {
    for (;;) {
      const newline = this.#text.indexOf("\n", this.#position);
      if (newline < 0) return NOTHING;
      const line = this.#text.slice(this.#position, newline);
      this.#position = newline + 1;
      if (line.trim() !== "") return parse(line);
    }
  }

  /** Stops reading and lets the body go (the server sees the connection drop). */
  async cancel(): Promise<void> {
    this.#eof = true;
    this.#text = "";
    this.#position = 0;
    await this.#reader.cancel().catch(() => {});
  }
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw remoteError(RemoteErrorCode.HRANA_PROTO_ERROR, "The server sent a cursor entry that is not JSON");
  }
}
