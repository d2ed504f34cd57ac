import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A reverse proxy on 127.0.0.1 that makes a test server look like an sqld that
 * only speaks Hrana 2: `/v3` and everything under it answer 404, and a
 * `/v2/pipeline` request using `get_autocommit` or the `is_autocommit`
 * condition is refused with sqld's version-gate error (HTTP 400, text/plain),
 * which the test server itself accepts (as Turso Cloud does).
 */
export class V2OnlyProxy {
  readonly #target: string;
  #server: Server | undefined;
  #port = 0;

  constructor(target: string) {
    this.#target = target;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = new URL(req.url ?? "/", "http://x").pathname;
        const body = Buffer.concat(chunks);
        if (path === "/v3" || path.startsWith("/v3/")) {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("Not Found");
          return;
        }
        const text = body.toString("utf8");
        if (path === "/v2/pipeline" && /"(get_autocommit|is_autocommit)"/.test(text)) {
          res.writeHead(400, { "content-type": "text/plain" });
          res.end("The `is_autocommit` condition is only supported in protocol version hrana3 and higher");
          return;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string" && name !== "host" && name !== "connection") headers[name] = value;
        }
        fetch(`${this.#target}${req.url}`, {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
        }).then(
          async (upstream) => {
            const out = Buffer.from(await upstream.arrayBuffer());
            res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "text/plain" });
            res.end(out);
          },
          () => {
            res.writeHead(502, { "content-type": "text/plain" });
            res.end("Bad Gateway");
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Starts a proxy in front of `target`. */
export async function startV2OnlyProxy(target: string): Promise<V2OnlyProxy> {
  const proxy = new V2OnlyProxy(target);
  await proxy.listen();
  return proxy;
}
