import { createHash, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type CursorFlavour, handleCursor } from "./cursor.js";
import { Executor } from "./execute.js";
import { Faults } from "./faults.js";
import { ProtocolError, StreamExpiredError } from "./hrana-errors.js";
import { applyCors, BodyTooLargeError, readBody, sendJson, sendText } from "./http-reply.js";
import { closeNativeDatabase, type NativeDatabase, openNativeDatabase } from "./native-database.js";
import { type HranaServices, handlePipeline } from "./pipeline.js";
import { RequestLog } from "./request-log.js";
import { StreamRegistry } from "./stream-registry.js";
import { WriteGate } from "./write-gate.js";

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** Database file; by default a fresh file in a temporary directory, deleted on `close()`. */
  dbPath?: string;
  /** When set, every endpoint but the probes requires `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Idle time after which a stream expires (sqld: 10 000 ms). */
  streamIdleMs?: number;
  /** How long an expired stream's baton answers STREAM_EXPIRED rather than "invalid baton" (sqld: 300 000 ms). */
  expiredStreamMemoryMs?: number;
  /** How long a statement waits for another stream's write transaction before SQLITE_BUSY (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Cursor output: sqld's quirks (default) or the Hrana spec; see `CursorFlavour`. */
  cursorFlavour?: CursorFlavour;
  /** Called as each request arrives (never with headers, so never with a token). */
  onRequest?: (request: { method: string; path: string }) => void;
  /** Called once each response was sent or the connection dropped (`status` undefined then). */
  onResponse?: (response: { method: string; path: string; status: number | undefined; ms: number }) => void;
}

/** What a route handler gets. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Values of the `{name}` segments of the route's pattern (or a RegExp's named groups). */
  params: Record<string, string>;
  /** Reads the request body (limited to 64 MiB). */
  body(): Promise<Buffer>;
  /** The server, for its database. */
  server: HranaTestServer;
}

/** Handles one request on a route; throw `ProtocolError` for a 400. */
export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  auth: boolean;
  handler: RouteHandler;
}

const BODY_LIMIT = 64 * 1024 * 1024;
const PROBE_TEXT = "Hello, this is HTTP API v2 (Hrana over HTTP)";

/**
 * A loopback Hrana-over-HTTP server on native libSQL that behaves like sqld for tests:
 * `GET /v2|/v3` probes, `POST /v2|/v3/pipeline`, `POST /v3/cursor`, batons, expiry,
 * bearer auth, CORS, and fault hooks. The database is in WAL mode with automatic
 * checkpoints off, and one connection (`db`) stays open for the server's whole life, so
 * WAL frames survive between requests. More routes (the replica's `/info`, `/export`,
 * `/sync`) plug in with `route()`, and `onCommit()` fires after each request that
 * committed a write.
 *
 * @example
 * await using server = await startTestServer({ authToken: "t" });
 * const client = createClient({ url: server.url, authToken: "t" });
 * server.faults.failNext(1); // the next request answers 500
 * expect(server.requests.count("/v2/pipeline")).toBe(0);
 * server.db.prepare("SELECT count(*) FROM t").raw(true).all(); // the native handle
 */
export class HranaTestServer {
  /** Every request received. */
  readonly requests = new RequestLog();
  /** Fault injection hooks. */
  readonly faults: Faults;
  /** Absolute path of the database file. */
  readonly dbPath: string;
  readonly #options: TestServerOptions;
  readonly #tempDir: string | undefined;
  readonly #routes: Route[] = [];
  readonly #commitListeners = new Set<() => void>();
  readonly #gate: WriteGate;
  readonly #executor: Executor;
  #registry: StreamRegistry;
  #db: NativeDatabase;
  #http: Server | undefined;
  #port: number;
  #dataVersion: unknown;
  #closing = new AbortController();
  #closed = false;

  constructor(options: TestServerOptions) {
    this.#options = options;
    if (options.dbPath === undefined) {
      this.#tempDir = mkdtempSync(join(tmpdir(), "hrana-test-server-"));
      this.dbPath = join(this.#tempDir, "db.sqlite");
    } else {
      this.dbPath = resolve(options.dbPath);
    }
    this.#port = options.port ?? 0;
    this.#db = openNativeDatabase(this.dbPath, { wal: true });
    this.#dataVersion = dataVersion(this.#db);
    this.#gate = new WriteGate(10, () => this.#registry.sweep());
    this.#executor = new Executor(this.#gate, options.busyTimeoutMs ?? 5000, this.dbPath);
    this.#registry = this.#newRegistry();
    this.faults = new Faults(() => this.#registry.expireAll());
    this.#addHranaRoutes();
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The port listened on. */
  get port(): number {
    return this.#port;
  }

  /** The server's own long-lived native connection, for assertions (it changes on `restart()`). */
  get db(): NativeDatabase {
    return this.#db;
  }

  /** Number of open streams. */
  get streamCount(): number {
    return this.#registry.size;
  }

  /**
   * Adds a route. `pattern` is an exact path with optional `{name}` segments
   * (`/sync/{g}/{s}/{e}`) or a RegExp (named groups become params). Routes require the
   * bearer token unless `auth` is false.
   */
  route(method: string, pattern: string | RegExp, handler: RouteHandler, options: { auth?: boolean } = {}): void {
    const { regex, names } = compilePattern(pattern);
    this.#routes.push({ method: method.toUpperCase(), regex, names, auth: options.auth ?? true, handler });
  }

  /** Calls `listener` after each request that committed a write; returns an unsubscribe function. */
  onCommit(listener: () => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /** Starts listening. */
  async listen(): Promise<void> {
    const http = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(this.#port, "127.0.0.1", () => {
        http.off("error", reject);
        resolve();
      });
    });
    this.#http = http;
    this.#port = (http.address() as AddressInfo).port;
  }

  /**
   * Simulates a server restart: drops every connection and stream (open transactions roll
   * back), closes and reopens the database (closing its last connection checkpoints the
   * WAL), and listens again on the same port with a new baton key, so old batons are
   * "invalid".
   */
  async restart(): Promise<void> {
    await this.#stop();
    // Let clients in this process see their pooled sockets close (their next request then
    // opens a new connection instead of failing on a dead one). Two turns of the event loop
    // make sure its poll phase has read the FIN.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    this.#db = openNativeDatabase(this.dbPath, { wal: true });
    this.#dataVersion = dataVersion(this.#db);
    this.#registry = this.#newRegistry();
    this.#closing = new AbortController();
    await this.listen();
  }

  /** Stops the server, closes every connection and deletes a temporary database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stop();
    if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #stop(): Promise<void> {
    this.#closing.abort();
    const http = this.#http;
    this.#http = undefined;
    if (http) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    }
    await this.#registry.close();
    this.#executor.close();
    closeNativeDatabase(this.#db);
  }

  #newRegistry(): StreamRegistry {
    return new StreamRegistry({
      idleMs: this.#options.streamIdleMs ?? 10_000,
      expiredMemoryMs: this.#options.expiredStreamMemoryMs ?? 300_000,
      open: () => openNativeDatabase(this.dbPath),
      onClosed: () => this.#gate.notify(),
    });
  }

  #services(): HranaServices {
    return { registry: this.#registry, executor: this.#executor, gate: this.#gate };
  }

  #addHranaRoutes(): void {
    const probe: RouteHandler = ({ res }) => sendText(res, 200, PROBE_TEXT);
    this.route("GET", "/v2", probe, { auth: false });
    this.route("GET", "/v3", probe, { auth: false });
    this.route("GET", "/health", ({ res }) => sendText(res, 200, ""), { auth: false });
    const pipeline: RouteHandler = async ({ res, body }) => {
      sendJson(res, 200, await handlePipeline(this.#services(), await body()));
    };
    this.route("POST", "/v2/pipeline", pipeline);
    this.route("POST", "/v3/pipeline", pipeline);
    this.route("POST", "/v3/cursor", async ({ res, body }) => {
      const raw = await body();
      const flavour = this.#options.cursorFlavour ?? "sqld";
      await handleCursor(this.#services(), raw, res, flavour, this.faults.takeCursorCut());
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const record = this.requests.add(method, path);
    const started = performance.now();
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    res.on("close", () => {
      const ms = Math.round(performance.now() - started);
      this.#options.onResponse?.({ method, path, status: record.status, ms });
    });
    this.#options.onRequest?.({ method, path });
    applyCors(req, res);
    if (method === "OPTIONS") {
      res.writeHead(204);
      res.end();
      return;
    }
    const delayMs = this.faults.takeDelay(path);
    if (delayMs > 0) {
      const slept = await sleep(delayMs, true, { signal: this.#closing.signal }).catch(() => false);
      if (!slept) return;
    }
    const failStatus = this.faults.takeFailure(path);
    if (failStatus !== undefined) {
      req.resume();
      sendJson(res, failStatus, { error: "Internal Error: injected fault" });
      return;
    }
    const found = this.#match(method, path);
    if (found === "method") {
      req.resume();
      sendText(res, 405, "Method Not Allowed");
      return;
    }
    if (!found) {
      req.resume();
      sendText(res, 404, "Not Found");
      return;
    }
    const token = this.#options.authToken;
    if (found.route.auth && token !== undefined) {
      const refusal = authRefusal(req.headers.authorization, token);
      if (refusal) {
        req.resume();
        sendJson(res, 401, { error: `Unauthorized: ${refusal}` });
        return;
      }
    }
    try {
      await found.route.handler({
        req,
        res,
        url,
        params: found.params,
        body: () => readBody(req, BODY_LIMIT),
        server: this,
      });
    } catch (e) {
      sendError(res, e);
    } finally {
      this.#checkCommit();
    }
  }

  #match(method: string, path: string): { route: Route; params: Record<string, string> } | "method" | undefined {
    let pathKnown = false;
    for (const route of this.#routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = { ...m.groups };
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] as string);
      });
      return { route, params };
    }
    return pathKnown ? "method" : undefined;
  }

  #checkCommit(): void {
    if (!this.#db.open) return;
    const version = dataVersion(this.#db);
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    for (const listener of this.#commitListeners) listener();
  }
}

/** Starts a test server on 127.0.0.1 (port 0 by default). */
export async function startTestServer(options: TestServerOptions = {}): Promise<HranaTestServer> {
  const server = new HranaTestServer(options);
  try {
    await server.listen();
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}

/** `PRAGMA data_version` of the server's connection: it changes when another connection commits. */
function dataVersion(db: NativeDatabase): unknown {
  return (db.prepare("PRAGMA data_version").raw(true).all()[0] as unknown[])[0];
}

function compilePattern(pattern: string | RegExp): { regex: RegExp; names: string[] } {
  if (pattern instanceof RegExp) return { regex: pattern, names: [] };
  const names: string[] = [];
  const source = pattern
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      names.push(name);
      return "([^/]+)";
    })
    .join("");
  return { regex: new RegExp(`^${source}$`), names };
}

/** Why a request is refused (sqld's auth error texts), or undefined when the token is right. */
function authRefusal(header: string | undefined, token: string): string | undefined {
  if (header === undefined) return "The `Authorization` HTTP header is required but was not specified";
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match) return "The `Authorization` HTTP header has invalid value";
  if ((match[1] as string).toLowerCase() !== "bearer") {
    return "The authentication scheme in the `Authorization` HTTP header is not supported";
  }
  // Compare digests so the comparison takes the same time whatever the token's length.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  if (!timingSafeEqual(digest(match[2] as string), digest(token))) return "The JWT is invalid";
  return undefined;
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    // Mid-stream (a cursor): the only way left to signal failure is to cut the body.
    res.destroy();
    return;
  }
  if (e instanceof ProtocolError) sendText(res, 400, e.message);
  else if (e instanceof StreamExpiredError) sendJson(res, 400, { message: e.message, code: e.code });
  else if (e instanceof BodyTooLargeError) sendJson(res, 413, { error: e.message });
  else sendJson(res, 500, { error: `Internal Error: ${e instanceof Error ? e.message : String(e)}` });
}
