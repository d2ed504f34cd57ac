import { type HranaTestServer, startTestServer, type TestServerOptions } from "../server/hrana-server.js";

/** Decoded JSON: the tests' assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in the tests.
export type Json = any;

/** Starts a test server, runs `fn`, and always closes the server. */
export async function withServer<T>(
  options: TestServerOptions,
  fn: (server: HranaTestServer) => Promise<T>,
): Promise<T> {
  const server = await startTestServer(options);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** A raw HTTP answer. */
export interface RawReply {
  status: number;
  contentType: string | null;
  text: string;
  headers: Headers;
  /** The body parsed as JSON, when it is JSON. */
  json: Json;
}

/** POSTs a JSON body (or a raw string) and reads the whole answer. */
export async function post(
  server: HranaTestServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return read(response);
}

/** Reads a fetch response completely. */
export async function read(response: Response): Promise<RawReply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text,
    headers: response.headers,
    json,
  };
}

/** POSTs a pipeline and expects HTTP 200. */
export async function pipeline(
  server: HranaTestServer,
  baton: string | null,
  requests: unknown[],
  options: { version?: 2 | 3; headers?: Record<string, string> } = {},
): Promise<{ baton: string | null; base_url: string | null; results: Json[] }> {
  const reply = await post(server, `/v${options.version ?? 2}/pipeline`, { baton, requests }, options.headers);
  if (reply.status !== 200) throw new Error(`pipeline answered ${reply.status}: ${reply.text}`);
  return reply.json;
}

/** A `Stmt` with positional arguments. */
export function stmt(sql: string, args: unknown[] = [], wantRows = true): Record<string, unknown> {
  return { sql, args, named_args: [], want_rows: wantRows };
}

/** An `execute` request. */
export function execute(sql: string, args: unknown[] = []): Record<string, unknown> {
  return { type: "execute", stmt: stmt(sql, args) };
}

/** Hrana values. */
export const v = {
  null: () => ({ type: "null" }),
  int: (n: number | bigint | string) => ({ type: "integer", value: String(n) }),
  float: (n: number) => ({ type: "float", value: n }),
  text: (s: string) => ({ type: "text", value: s }),
  blob: (base64: string) => ({ type: "blob", base64 }),
};

/** The ok response of a pipeline result, failing the test on an error result. */
export function ok(result: Json): Json {
  if (result?.type !== "ok") throw new Error(`expected an ok result, got ${JSON.stringify(result)}`);
  return result.response;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `/v3/cursor` answer, read to its end (or to where the server cut it). */
export interface CursorReply {
  status: number;
  contentType: string | null;
  /** The first line: `{baton, base_url}` (undefined for a non-200 answer). */
  header: Json;
  /** The entries after the first line. */
  entries: Json[];
  /** True when the body broke off instead of ending. */
  cut: boolean;
  /** The whole body as received. */
  text: string;
}

/** POSTs to `/v3/cursor` and reads the newline-delimited JSON body as far as it goes. */
export async function cursor(
  server: HranaTestServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<CursorReply> {
  const response = await fetch(`${server.url}/v3/cursor`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const decoder = new TextDecoder();
  let text = "";
  let cut = false;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    cut = true;
  }
  const contentType = response.headers.get("content-type");
  if (response.status !== 200) {
    return { status: response.status, contentType, header: undefined, entries: [], cut, text };
  }
  const lines = text.split("\n");
  const complete = lines.slice(0, -1).map((line) => JSON.parse(line));
  return { status: response.status, contentType, header: complete[0], entries: complete.slice(1), cut, text };
}
