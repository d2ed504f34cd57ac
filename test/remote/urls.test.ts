import { createClient as officialClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/api.js";
import { LibsqlError } from "../../src/errors.js";
import { createClient } from "../../src/node.js";
import { createClient as createRemoteClient } from "../../src/remote.js";
import { withServer } from "./helpers.js";

/** @libsql/client takes only a config object. */
function official(config: Config | string) {
  return officialClient(
    (typeof config === "string" ? { url: config } : config) as Parameters<typeof officialClient>[0],
  );
}

function codeOf(create: () => unknown): string | undefined {
  try {
    const client = create() as { close(): void };
    client.close();
    return undefined;
  } catch (e) {
    return e instanceof Error ? ((e as LibsqlError).code ?? e.name) : String(e);
  }
}

/** Each of these URLs is refused by @libsql/client; we must refuse it with the same code. */
const BAD: Array<Config | string> = [
  "libsql://db.example.com?tls=0",
  "libsql://db.example.com?tls=2",
  "http://db.example.com?tls=1",
  "https://db.example.com?tls=0",
  "libsql://db.example.com?foo=1",
  "libsql://db.example.com#fragment",
  "libsql://db.example.com/%zz",
  "ftp://db.example.com",
  "not a url",
  "libsql:no-authority",
  "https:/path-only",
  { url: "libsql://db.example.com", encryptionKey: "k" },
];

/** Accepted by both. */
const GOOD: Array<Config | string> = [
  "libsql://db.example.com",
  "libsql://db.example.com:8080?tls=0",
  "libsql://db.example.com?tls=1&authToken=abc",
  "https://db.example.com/some/path",
  "http://127.0.0.1:8080",
  { url: "libsql://db.example.com", authToken: "abc", tls: true },
];

describe("remote URLs and config", () => {
  for (const config of BAD) {
    it(`refuses ${JSON.stringify(config)} as @libsql/client does`, () => {
      const expected = codeOf(() => official(config));
      expect(expected).toBeDefined();
      expect(codeOf(() => createClient(config))).toBe(expected);
      expect(codeOf(() => createRemoteClient(config))).toBe(expected);
    });
  }

  for (const config of GOOD) {
    it(`accepts ${JSON.stringify(config)} as @libsql/client does`, () => {
      expect(codeOf(() => official(config))).toBeUndefined();
      expect(codeOf(() => createClient(config))).toBeUndefined();
      expect(codeOf(() => createRemoteClient(config))).toBeUndefined();
    });
  }

  it("refuses local URLs in the remote entry", () => {
    for (const url of [":memory:", "file:local.db"]) {
      expect(() => createRemoteClient(url)).toThrow(LibsqlError);
      expect(codeOf(() => createRemoteClient(url))).toBe("URL_SCHEME_NOT_SUPPORTED");
    }
  });

  it("maps libsql: to https:, keeps the path, and sends the token as a bearer", () =>
    withServer({ authToken: "tok-123456" }, async (server) => {
      const seen: Array<{ url: string; authorization: string | null }> = [];
      // Records what the client asks for, then has the loopback server answer it over plain HTTP.
      const forward = async (request: Request) => {
        seen.push({ url: request.url, authorization: request.headers.get("authorization") });
        const path = new URL(request.url).pathname.replace(/^\/some\/db/, "");
        return fetch(new Request(`${server.url}${path}`, request));
      };
      for (const config of [
        { url: "libsql://db.example.com/some/db", authToken: "tok-123456", fetch: forward },
        { url: "libsql://db.example.com/some/db/?authToken=tok-123456", fetch: forward },
      ]) {
        seen.length = 0;
        const client = createClient(config);
        try {
          expect(client.protocol).toBe("http");
          expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
        } finally {
          client.close();
        }
        expect(seen.map((s) => s.url)).toEqual([
          "https://db.example.com/some/db/v3",
          "https://db.example.com/some/db/v3/pipeline",
        ]);
        // The probe carries no credentials (a simple request in browsers, no preflight).
        expect(seen.map((s) => s.authorization)).toEqual([null, "Bearer tok-123456"]);
      }
    }));

  it("speaks plain HTTP to libsql: with ?tls=0", () =>
    withServer({}, async (server) => {
      const client = createClient(`libsql://127.0.0.1:${server.port}?tls=0`);
      try {
        expect((await client.execute("SELECT 2 AS two")).rows[0]!.two).toBe(2);
        expect(server.requests.count("/v3/pipeline")).toBe(1);
      } finally {
        client.close();
      }
    }));

  it("speaks HTTP to ws: URLs, and sends the remote encryption key without ever showing it", () =>
    withServer({}, async (server) => {
      const key = "remote-encryption-key-0246";
      const headers: Array<string | null> = [];
      const recording = async (request: Request) => {
        headers.push(request.headers.get("x-turso-encryption-key"));
        return fetch(request);
      };
      const client = createClient({ url: `ws://127.0.0.1:${server.port}`, remoteEncryptionKey: key, fetch: recording });
      try {
        expect(client.protocol).toBe("http");
        expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
        expect(headers).toEqual([null, key]);
        server.faults.failNext(1, { path: "/v3/pipeline", status: 400 });
        const error = await client.execute("SELECT 1").catch((e: unknown) => e as Error);
        expect((error as LibsqlError).code).toBe("SERVER_ERROR");
        expect(String((error as Error).message)).not.toContain(key);
      } finally {
        client.close();
      }
    }));

  it("turns user:password in the URL into basic auth, never into the request URL", async () => {
    const seen: Array<{ url: string; authorization: string | null }> = [];
    const recording = async (request: Request) => {
      seen.push({ url: request.url, authorization: request.headers.get("authorization") });
      return new Response("no", { status: 404 });
    };
    const client = createClient({ url: "https://ann:s3cr%C3%A9t@db.example.invalid", fetch: recording });
    try {
      const error = (await client.execute("SELECT 1").catch((e: unknown) => e)) as LibsqlError;
      expect(error.code).toBe("SERVER_ERROR");
      expect(error.message).not.toContain("s3cr");
      expect(seen.map((s) => s.url)).toEqual([
        "https://db.example.invalid/v3",
        "https://db.example.invalid/v2/pipeline",
      ]);
      expect(seen[1]!.authorization).toBe(`Basic ${Buffer.from("ann:s3crét").toString("base64")}`);
    } finally {
      client.close();
    }
  });

  it("asks for the version again with credentials when a proxy wants them", () =>
    withServer({ authToken: "proxy-token-8642" }, async (server) => {
      const seen: string[] = [];
      // A proxy in front of the server that turns away every request without the token.
      const guarded = async (request: Request) => {
        const authorized = request.headers.get("authorization") === "Bearer proxy-token-8642";
        seen.push(`${request.method} ${new URL(request.url).pathname} ${authorized ? "with" : "without"} token`);
        if (!authorized) return new Response("Unauthorized", { status: 401 });
        return fetch(request);
      };
      const client = createClient({ url: server.url, authToken: "proxy-token-8642", fetch: guarded });
      try {
        expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
        expect(seen).toEqual(["GET /v3 without token", "GET /v3 with token", "POST /v3/pipeline with token"]);
      } finally {
        client.close();
      }
    }));
});
