import { toBase64 } from "../base64.js";
import type { ExpandedConfig } from "../config.js";
import type {
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  DescribeResult,
  IntMode,
  Stmt,
  StmtResult,
} from "../proto.js";
import type { Transport, TransportCursor, TransportStatement, TransportStream } from "../transport.js";
import { encodeBaseUrl } from "../uri.js";
import { type Endpoint, probeEndpoint } from "./endpoint.js";
import { type FetchFunction, HttpSender } from "./http-sender.js";
import { HttpStream, type StreamContext } from "./http-stream.js";
import { Limiter } from "./limiter.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";

/** Options of the HTTP transport beyond `Config`. */
export interface HttpTransportOptions {
  /**
   * Longest a remote call may take, in milliseconds: one HTTP request with its
   * retries, or one read of a cursor. `REQUEST_TIMEOUT` when exceeded. No limit
   * by default.
   */
  timeoutMs?: number;
  /** Aborting it fails every call of the client in flight and later (`REQUEST_ABORTED`). */
  signal?: AbortSignal;
  /** Retry policy (see retry.ts for when a request is repeated at all). */
  retry?: Partial<RetryPolicy>;
}

/**
 * Opens the Hrana-over-HTTP transport of a remote config (`http:`/`https:`;
 * `libsql:` was resolved by `expandConfig`; `ws:`/`wss:` are spoken to over
 * HTTP too, since sqld and Turso serve both on the same address). Nothing is
 * sent until the first call.
 */
export function openHttpTransport(config: ExpandedConfig, options: HttpTransportOptions = {}): Promise<Transport> {
  // Not async: a URL without authority throws now, so that `createClient` throws it, as @libsql/client's does.
  const fromConfig: HttpTransportOptions = { timeoutMs: config.remoteTimeout, signal: config.signal };
  return Promise.resolve(new HttpTransport(config, { ...fromConfig, ...options }));
}

/**
 * Calls outside transactions each run on a fresh server stream that the same
 * request closes (one HTTP request per `execute`/`batch`); a transaction gets a
 * stream of its own. The Hrana version is probed once, on the first call.
 */
class HttpTransport implements Transport {
  readonly protocol = "http" as const;
  readonly main: TransportStream;
  readonly #ctx: StreamContext;
  readonly #streams = new Set<HttpStream>();

  constructor(config: ExpandedConfig, options: HttpTransportOptions) {
    const scheme = config.scheme === "wss" ? "https" : config.scheme === "ws" ? "http" : config.scheme;
    const url = encodeBaseUrl(scheme, config.authority, config.path);
    const headers: Record<string, string> = {};
    const secrets: string[] = [];
    if (url.username !== "" || url.password !== "") {
      // fetch refuses URLs with credentials; sqld understands them as HTTP basic auth.
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      if (config.authToken === undefined) {
        headers.authorization = `Basic ${toBase64(new TextEncoder().encode(`${user}:${password}`))}`;
      }
      secrets.push(password, `${user}:${password}`);
      url.username = "";
      url.password = "";
    }
    if (config.authToken !== undefined) {
      headers.authorization = `Bearer ${config.authToken}`;
      secrets.push(config.authToken);
    }
    if (config.remoteEncryptionKey !== undefined) {
      headers["x-turso-encryption-key"] = config.remoteEncryptionKey;
      secrets.push(config.remoteEncryptionKey);
    }
    if (headers.authorization) secrets.push(headers.authorization.replace(/^\w+ /, ""));
    const custom = config.fetch as FetchFunction | undefined;
    const sender = new HttpSender({
      // Called as a plain function: workerd refuses a fetch called as a method of another object.
      fetch: custom ?? ((request) => fetch(request)),
      headers,
      secrets,
      limiter: new Limiter(config.concurrency),
      retry: { ...DEFAULT_RETRY, ...options.retry },
    });
    const base = url.toString();
    let endpoint: Promise<Endpoint> | undefined;
    this.#ctx = {
      sender,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      endpoint: () => {
        endpoint ??= probeEndpoint(sender, base, options.signal, options.timeoutMs);
        // A failed probe is forgotten, so that the next call asks again.
        endpoint.catch(() => {
          endpoint = undefined;
        });
        return endpoint;
      },
    };
    this.main = new MainStream(() => new HttpStream(this.#ctx, "repeated"));
  }

  async openStream(): Promise<TransportStream> {
    for (const stream of this.#streams) if (stream.closed) this.#streams.delete(stream);
    const stream = new HttpStream(this.#ctx, "all");
    this.#streams.add(stream);
    return stream;
  }

  async close(): Promise<void> {
    const streams = [...this.#streams];
    this.#streams.clear();
    await Promise.all(streams.map((s) => s.close()));
  }
}

const FRESH_METADATA: ConnectionMetadata = { lastInsertRowid: 0n, changes: 0, totalChanges: 0, autocommit: true };

/**
 * The client's stream outside transactions. Each call opens a server stream and
 * closes it in the same request, as `@libsql/client` does; so the connection
 * state a call sees is always a fresh connection's, which `getAutocommit` and
 * `metadata` answer without asking.
 */
class MainStream implements TransportStream {
  readonly #open: () => HttpStream;

  constructor(open: () => HttpStream) {
    this.#open = open;
  }

  /** Runs `call` on a fresh stream whose close goes out with the call's request. */
  #once<T>(call: (stream: HttpStream) => Promise<T>): Promise<T> {
    const stream = this.#open();
    const result = call(stream);
    void stream.close();
    return result;
  }

  execute(stmt: Stmt, intMode: IntMode): Promise<StmtResult> {
    return this.#once((s) => s.execute(stmt, intMode));
  }

  batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult> {
    return this.#once((s) => s.batch(steps, intMode));
  }

  sequence(sql: string): Promise<void> {
    return this.#once((s) => s.sequence(sql));
  }

  describe(sql: string): Promise<DescribeResult> {
    return this.#once((s) => s.describe(sql));
  }

  async getAutocommit(): Promise<boolean> {
    return true;
  }

  async metadata(): Promise<ConnectionMetadata> {
    return { ...FRESH_METADATA };
  }

  async prepare(sql: string): Promise<TransportStatement> {
    const info = await this.describe(sql);
    return {
      info,
      query: async (args, intMode, maxRows) => {
        const stmt: Stmt = Array.isArray(args)
          ? { sql, args: [...(args as Stmt["args"] & unknown[])] }
          : { sql, namedArgs: { ...(args as Stmt["namedArgs"]) } };
        const result = await this.execute(stmt, intMode);
        // The protocol has no row limit: the server sends every row, and `get()` keeps the first.
        return maxRows === undefined ? result : { ...result, rows: result.rows.slice(0, maxRows) };
      },
      close: async () => {},
    };
  }

  openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor> {
    // The close waits in the stream's queue until the cursor has been read or closed.
    return this.#once((s) => s.openCursor(steps, intMode));
  }

  async close(): Promise<void> {}
}
