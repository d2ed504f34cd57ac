import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ProtocolError, StreamExpiredError } from "./hrana-errors.js";
import { closeNativeDatabase, type NativeDatabase } from "./native-database.js";

/**
 * One Hrana stream: a native connection of its own plus the SQL texts stored on it.
 * `lock()` serialises use of the connection (a cursor keeps it after its baton was handed
 * out, and the next request on the stream waits for the cursor to finish, as in sqld).
 */
export class HranaStream {
  /** Random 64-bit id. */
  readonly id: bigint;
  /** The sequence number the next baton must carry. */
  seq: bigint;
  /** Null once a `close` request ran. */
  conn: NativeDatabase | null;
  /** SQL texts from `store_sql`. */
  readonly sqls = new Map<number, string>();
  /** `acquired` while a request holds the stream. */
  state: "available" | "acquired" = "acquired";
  /** When an available stream expires (ms since epoch). */
  expiresAt = Number.POSITIVE_INFINITY;
  #tail: Promise<void> = Promise.resolve();
  #holders = 0;

  constructor(id: bigint, seq: bigint, conn: NativeDatabase) {
    this.id = id;
    this.seq = seq;
    this.conn = conn;
  }

  /** True while something holds or waits for the connection. */
  get busy(): boolean {
    return this.#holders > 0;
  }

  /** Waits for the connection; call the returned function to let the next user in. */
  lock(): Promise<() => void> {
    this.#holders++;
    const previous = this.#tail;
    let unlock!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      unlock = () => {
        this.#holders--;
        resolve();
      };
    });
    return previous.then(() => unlock);
  }
}

/** Options of a `StreamRegistry`. */
export interface StreamRegistryOptions {
  /** Idle time after which a stream expires (sqld: 10 s). */
  idleMs: number;
  /** How long an expired stream's baton still yields STREAM_EXPIRED (sqld: 300 s). */
  expiredMemoryMs: number;
  /** Opens the connection of a new stream. */
  open: () => NativeDatabase;
  /** Called whenever a stream's connection was closed (its locks are gone). */
  onClosed: () => void;
}

const U64 = (1n << 64n) - 1n;
const BATON = /^[A-Za-z0-9+/]{64}$/;

/**
 * The server's streams and their batons, as sqld's `hrana/http/stream.rs`: a baton is
 * base64 (standard alphabet, no padding) of stream id (u64 BE) || sequence (u64 BE) ||
 * HMAC-SHA256 of those 16 bytes under a per-registry random key. Each response carries a
 * new baton and the old one stops working.
 *
 * Differences from sqld, on purpose: expiry is not rounded up to whole seconds (tests use
 * short idle times), and `expireAll()` exists for fault injection.
 */
export class StreamRegistry {
  readonly #options: StreamRegistryOptions;
  readonly #key = randomBytes(32);
  readonly #streams = new Map<bigint, HranaStream>();
  readonly #expired = new Map<bigint, number>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: StreamRegistryOptions) {
    this.#options = options;
    const every = Math.max(5, Math.min(1000, Math.floor(options.idleMs / 4)));
    this.#timer = setInterval(() => this.sweep(), every);
    this.#timer.unref();
  }

  /** Number of open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * Takes the stream a baton names (or opens a new one for a null baton) for one request.
   * Throws `ProtocolError` for a forged, unknown or reused baton, `StreamExpiredError` for
   * an expired stream.
   */
  acquire(baton: string | null): HranaStream {
    if (this.#closed) throw new Error("the stream registry is closed");
    if (baton === null) {
      let id: bigint;
      do id = randomBytes(8).readBigUInt64BE();
      while (this.#streams.has(id) || this.#expired.has(id));
      const stream = new HranaStream(id, randomBytes(8).readBigUInt64BE(), this.#options.open());
      this.#streams.set(id, stream);
      return stream;
    }
    const [id, seq] = this.#decode(baton);
    this.sweep();
    const stream = this.#streams.get(id);
    if (!stream) {
      if (this.#expired.has(id)) throw new StreamExpiredError();
      throw new ProtocolError("Received an invalid baton");
    }
    if (stream.state === "acquired" || stream.seq !== seq) {
      throw new ProtocolError("Received a baton that has already been used");
    }
    stream.state = "acquired";
    stream.seq = (stream.seq + 1n) & U64;
    stream.expiresAt = Number.POSITIVE_INFINITY;
    return stream;
  }

  /** Ends a request's hold on a stream; returns the next baton, or null if the stream was closed. */
  release(stream: HranaStream): string | null {
    if (stream.conn === null || this.#streams.get(stream.id) !== stream) {
      this.#streams.delete(stream.id);
      return null;
    }
    stream.state = "available";
    this.touch(stream);
    return this.#encode(stream.id, stream.seq);
  }

  /** Restarts a stream's idle timer (after its connection was last used). */
  touch(stream: HranaStream): void {
    stream.expiresAt = Date.now() + this.#options.idleMs;
  }

  /** Drops a stream after an error: its connection closes and its transaction rolls back. */
  discard(stream: HranaStream): void {
    this.#streams.delete(stream.id);
    void this.#closeConnection(stream);
  }

  /** Closes the connection of a stream on which `close` was requested. */
  closeStream(stream: HranaStream): void {
    void this.#closeConnection(stream);
  }

  /** Expires every stream not held by a request right now (fault injection). */
  expireAll(): void {
    for (const stream of this.#streams.values()) {
      if (stream.state === "available") this.#expire(stream, Date.now());
    }
  }

  /** Expires idle streams and forgets long-expired ones. */
  sweep(now = Date.now()): void {
    for (const stream of this.#streams.values()) {
      if (stream.state === "available" && !stream.busy && stream.expiresAt <= now) this.#expire(stream, now);
    }
    for (const [id, forgetAt] of this.#expired) {
      if (forgetAt <= now) this.#expired.delete(id);
    }
  }

  /** Closes every stream and stops the expiry timer; resolves once every connection is closed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const closing = [...this.#streams.values()].map((stream) => this.#closeConnection(stream));
    this.#streams.clear();
    this.#expired.clear();
    await Promise.all(closing);
  }

  #expire(stream: HranaStream, now: number): void {
    this.#streams.delete(stream.id);
    this.#expired.set(stream.id, now + this.#options.expiredMemoryMs);
    void this.#closeConnection(stream);
  }

  #closeConnection(stream: HranaStream): Promise<void> {
    const conn = stream.conn;
    stream.conn = null;
    if (!conn) return Promise.resolve();
    // A request or cursor may still be using it: close once its user lets go.
    return stream.lock().then((unlock) => {
      try {
        closeNativeDatabase(conn);
      } finally {
        unlock();
        this.#options.onClosed();
      }
    });
  }

  #encode(id: bigint, seq: bigint): string {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(id, 0);
    payload.writeBigUInt64BE(seq, 8);
    const mac = createHmac("sha256", this.#key).update(payload).digest();
    return Buffer.concat([payload, mac]).toString("base64").replace(/=+$/, "");
  }

  #decode(baton: string): [bigint, bigint] {
    if (!BATON.test(baton)) throw new ProtocolError("Received an invalid baton");
    const data = Buffer.from(baton, "base64");
    const payload = data.subarray(0, 16);
    const mac = createHmac("sha256", this.#key).update(payload).digest();
    if (!timingSafeEqual(mac, data.subarray(16))) throw new ProtocolError("Received an invalid baton");
    return [payload.readBigUInt64BE(0), payload.readBigUInt64BE(8)];
  }
}
