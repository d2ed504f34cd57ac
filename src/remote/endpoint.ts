import { CallSignal } from "./call-signal.js";
import type { HttpSender } from "./http-sender.js";

/** Which Hrana version a server speaks, and where. */
export interface Endpoint {
  version: 2 | 3;
  /** `POST` target of pipelines. */
  pipelineUrl: string;
  /** `POST` target of cursors; only Hrana 3 has them. */
  cursorUrl: string | undefined;
}

/**
 * `{base}/{path}`. The base's own path is kept (one trailing slash dropped), as
 * the Rust client does; `@libsql/client` resolves relatively instead, which drops
 * the last segment of a base without a trailing slash.
 */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/${path}`;
  return url.toString();
}

/** The endpoint of `version` under `base`. */
export function endpointFor(base: string, version: 2 | 3): Endpoint {
  return version === 3
    ? { version, pipelineUrl: joinUrl(base, "v3/pipeline"), cursorUrl: joinUrl(base, "v3/cursor") }
    : { version, pipelineUrl: joinUrl(base, "v2/pipeline"), cursorUrl: undefined };
}

/**
 * Asks the server whether it speaks Hrana 3 over JSON (`GET {base}/v3`, §1.2 of
 * docs/protocols.md): a 2xx says yes, another client error says no (Hrana 2);
 * server errors and network failures are retried, then reported. The probe goes
 * without credentials (sqld does not want them, and in a browser that keeps it
 * a simple request, without a CORS preflight), unless the answer is 401/403:
 * then it is asked again with them, for servers behind an authenticating proxy.
 */
export async function probeEndpoint(
  sender: HttpSender,
  base: string,
  signal: AbortSignal | undefined,
  timeoutMs?: number,
): Promise<Endpoint> {
  const call = new CallSignal(signal);
  call.arm(timeoutMs);
  try {
    const ask = (credentials: boolean) =>
      sender.send(
        { url: joinUrl(base, "v3"), method: "GET", credentials },
        "safe",
        call,
        async (response) => {
          await response.body?.cancel().catch(() => {});
          return response.status;
        },
        (response) => response.status < 500 && response.status !== 408 && response.status !== 429,
      );
    let status = await ask(false);
    if (status === 401 || status === 403) status = await ask(true);
    return endpointFor(base, status >= 200 && status < 300 ? 3 : 2);
  } finally {
    call.dispose();
  }
}
