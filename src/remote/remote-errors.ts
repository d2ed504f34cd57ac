import { ErrorCode, LibsqlError } from "../errors.js";
import type { ProtoError } from "../proto.js";

/**
 * Codes the HTTP transport produces itself. `SERVER_ERROR`, `HRANA_PROTO_ERROR` and
 * `HRANA_CLOSED_ERROR` are `@libsql/client`'s; the others name failures that
 * `@libsql/client` lets through as a bare `TypeError`/`DOMException`.
 */
export const RemoteErrorCode = {
  SERVER_ERROR: ErrorCode.SERVER_ERROR,
  HRANA_PROTO_ERROR: ErrorCode.HRANA_PROTO_ERROR,
  HRANA_CLOSED_ERROR: ErrorCode.HRANA_CLOSED_ERROR,
  NETWORK_ERROR: ErrorCode.NETWORK_ERROR,
  REQUEST_TIMEOUT: ErrorCode.REQUEST_TIMEOUT,
  REQUEST_ABORTED: ErrorCode.REQUEST_ABORTED,
} as const;

/**
 * Replaces every secret (auth token, encryption key, password) in `text`.
 * Servers and proxies may echo request headers in error bodies.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("<redacted>");
  }
  return out;
}

/** A `LibsqlError` from an error carried in a Hrana response (`{message, code}`). */
export function errorFromProto(error: ProtoError): LibsqlError {
  return new LibsqlError(error.message, error.code);
}

/** A `LibsqlError` with `code`, and an optional cause. */
export function remoteError(code: string, message: string, cause?: unknown): LibsqlError {
  return new LibsqlError(message, code, undefined, undefined, cause);
}

/**
 * The error for a non-2xx response, as `@libsql/client` builds it: a JSON body with
 * `message` gives its Hrana `code` (e.g. `STREAM_EXPIRED`); anything else is a
 * `SERVER_ERROR` naming the status. The body text is kept in the message (sqld puts
 * its reason there, e.g. "Unauthorized: ...") with secrets removed.
 */
export async function errorFromResponse(response: Response, secrets: readonly string[]): Promise<LibsqlError> {
  const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  let message = `Server returned HTTP status ${response.status}`;
  let text = "";
  try {
    text = (await response.text()).trim();
  } catch {
    // The body is only decoration here; the status says enough.
  }
  if (type === "application/json" && text !== "") {
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      if (typeof body.message === "string") {
        const code = typeof body.code === "string" ? body.code : "UNKNOWN";
        return new LibsqlError(redact(body.message, secrets), code);
      }
      if (typeof body.error === "string") text = body.error;
    } catch {
      // Not JSON after all: show it as text.
    }
  }
  if (text !== "") message += `: ${text.length > 1000 ? `${text.slice(0, 1000)}…` : text}`;
  return new LibsqlError(redact(message, secrets), RemoteErrorCode.SERVER_ERROR);
}
