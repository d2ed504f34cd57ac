import type { Config, EncryptionTarget } from "./api.js";
import { LibsqlError } from "./errors.js";
import type { EncryptionFormat, EncryptionSpec, IntMode } from "./proto.js";
import { type Authority, parseUri } from "./uri.js";

/** Where a client's database is. */
export type DatabaseKind = "memory" | "file" | "opfs" | "remote";

/** A validated, frozen configuration. */
export interface ExpandedConfig {
  readonly kind: DatabaseKind;
  /** `file`, `opfs`, `http`, `https`, `ws` or `wss` (`libsql:` already resolved). */
  readonly scheme: string;
  readonly tls: boolean;
  readonly authority: Authority | undefined;
  /** File path, OPFS name, or URL path of a remote database. */
  readonly path: string;
  readonly authToken: string | undefined;
  readonly intMode: IntMode;
  readonly concurrency: number;
  readonly encryptionKey: string | undefined;
  /** The format of an encrypted local database (set only with `encryptionKey`). */
  readonly encryptionFormat: EncryptionFormat | undefined;
  readonly remoteEncryptionKey: string | undefined;
  readonly syncUrl: string | undefined;
  readonly syncInterval: number | undefined;
  readonly readYourWrites: boolean | undefined;
  readonly offline: boolean | undefined;
  // biome-ignore lint/complexity/noBannedTypes: as loose as @libsql/client's Config.fetch.
  readonly fetch: Function | undefined;
  readonly timeout: number | undefined;
  readonly remoteTimeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly storage: "opfs-sahpool" | "opfs";
  readonly worker: Worker | MessagePort | undefined;
  readonly sharedLane: boolean | undefined;
}

const SUPPORTED = '"libsql:", "https:", "http:", "wss:", "ws:", "file:" and "opfs:"';

/**
 * Validates a config (or URL) as `@libsql/client`'s `expandConfig` does, with
 * the same error codes, plus our `opfs:` scheme. `libsql:` becomes `https:`
 * (`http:` with `?tls=0`).
 */
export function expandConfig(input: Config | string): ExpandedConfig {
  const config: Config = typeof input === "string" ? { url: input } : input;
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`Expected client configuration as object, got ${typeof config}`);
  }
  if (typeof config.url !== "string") throw new TypeError("Expected config.url to be a string");
  let { authToken, tls } = config;
  const intMode = config.intMode ?? "number";
  if (intMode !== "number" && intMode !== "bigint" && intMode !== "string") {
    throw new TypeError(
      `Invalid value for intMode, expected "number", "bigint" or "string", got ${JSON.stringify(intMode)}`,
    );
  }
  const url = config.url === ":memory:" ? "file::memory:" : config.url;
  const uri = parseUri(url);
  const originalScheme = uri.scheme.toLowerCase();
  const memory = originalScheme === "file" && uri.path === ":memory:" && uri.authority === undefined;
  for (const { key, value } of uri.query ?? []) {
    if (memory && key === "cache" && (value === "shared" || value === "private")) continue;
    if (!memory && key === "tls") {
      if (value !== "0" && value !== "1") {
        throw new LibsqlError(
          `Unknown value for the "tls" query argument: ${JSON.stringify(value)}. Supported values are: ["0", "1"]`,
          "URL_INVALID",
        );
      }
      tls = value === "1";
      continue;
    }
    if (!memory && key === "authToken") {
      authToken = value;
      continue;
    }
    if (memory && key === "cache") {
      throw new LibsqlError(
        `Unknown value for the "cache" query argument. Supported values are: ["shared", "private"]`,
        "URL_INVALID",
      );
    }
    throw new LibsqlError(`Unsupported URL query parameter ${JSON.stringify(key)}`, "URL_PARAM_NOT_SUPPORTED");
  }
  if (uri.fragment !== undefined) throw new LibsqlError("URL fragments are not supported", "URL_INVALID");

  let scheme = originalScheme;
  if (scheme === "libsql") {
    if (tls === false) {
      if (uri.authority?.port === undefined) {
        throw new LibsqlError('A "libsql:" URL with ?tls=0 must specify an explicit port', "URL_INVALID");
      }
      scheme = "http";
    } else {
      scheme = "https";
    }
  }
  tls ??= !(scheme === "http" || scheme === "ws");
  let kind: DatabaseKind;
  if (scheme === "http" || scheme === "https" || scheme === "ws" || scheme === "wss") {
    kind = "remote";
    if ((scheme === "http" || scheme === "ws") && tls) {
      throw new LibsqlError(`A "${scheme}:" URL cannot opt into TLS using ?tls=1`, "URL_INVALID");
    }
    if ((scheme === "https" || scheme === "wss") && !tls) {
      throw new LibsqlError(`A "${scheme}:" URL cannot opt out of TLS using ?tls=0`, "URL_INVALID");
    }
    if (config.encryptionKey !== undefined) {
      throw new LibsqlError("Encryption key is not supported by the remote client.", "ENCRYPTION_KEY_NOT_SUPPORTED");
    }
  } else if (scheme === "file") {
    kind = memory ? "memory" : "file";
    checkLocalAuthority(uri.authority, "file");
  } else if (scheme === "opfs") {
    kind = "opfs";
    checkLocalAuthority(uri.authority, "opfs");
    if (uri.path === "" || uri.path.endsWith("/")) {
      throw new LibsqlError('An "opfs:" URL needs a database name, e.g. "opfs:app.db"', "URL_INVALID");
    }
  } else {
    throw new LibsqlError(
      `The client supports only ${SUPPORTED} URLs, got ${JSON.stringify(`${uri.scheme}:`)}.`,
      "URL_SCHEME_NOT_SUPPORTED",
    );
  }
  if (kind === "memory" && config.syncUrl) {
    throw new LibsqlError(
      `Embedded replica must use file for local db but URI with in-memory mode were provided instead: ${config.url}`,
      "URL_INVALID",
    );
  }
  const { encryptionFormat } = config;
  if (encryptionFormat !== undefined) {
    if (encryptionFormat !== "libsql" && encryptionFormat !== "authenticated") {
      throw new TypeError(
        `Invalid value for encryptionFormat, expected "libsql" or "authenticated", got ${JSON.stringify(encryptionFormat)}`,
      );
    }
    if (config.encryptionKey === undefined) throw new TypeError("encryptionFormat needs an encryptionKey");
  }
  const storage = config.storage ?? "opfs-sahpool";
  if (storage !== "opfs-sahpool" && storage !== "opfs") {
    throw new LibsqlError(
      `Unknown storage ${JSON.stringify(storage)}: expected "opfs-sahpool" or "opfs"`,
      "URL_INVALID",
    );
  }
  return Object.freeze({
    kind,
    scheme,
    tls,
    authority: uri.authority,
    path: uri.path,
    authToken: kind === "memory" ? undefined : authToken,
    intMode,
    concurrency: Math.max(0, config.concurrency || 20),
    encryptionKey: kind === "memory" ? undefined : config.encryptionKey,
    encryptionFormat: kind === "memory" ? undefined : encryptionFormat,
    remoteEncryptionKey: config.remoteEncryptionKey,
    syncUrl: config.syncUrl,
    syncInterval: config.syncInterval,
    readYourWrites: config.readYourWrites,
    offline: config.offline,
    fetch: config.fetch,
    timeout: config.timeout,
    remoteTimeout: config.remoteTimeout,
    signal: config.signal,
    storage,
    worker: config.worker,
    sharedLane: config.sharedLane,
  });
}

function checkLocalAuthority(authority: Authority | undefined, scheme: string): void {
  if (authority === undefined) return;
  const host = authority.host.toLowerCase();
  if (host !== "" && host !== "localhost") {
    throw new LibsqlError(
      `Invalid host in ${scheme} URL: ${JSON.stringify(authority.host)}. A "${scheme}:" URL with an absolute path should start with one slash ("${scheme}:/absolute/path.db") or with three slashes ("${scheme}:///absolute/path.db").`,
      "URL_INVALID",
    );
  }
  if (authority.port !== undefined) throw new LibsqlError(`${scheme} URL cannot have a port`, "URL_INVALID");
  if (authority.userinfo !== undefined) {
    throw new LibsqlError(`${scheme} URL cannot have username and password`, "URL_INVALID");
  }
}

/** The encryption of a local database as the engine takes it, or undefined for a plain one. */
export function encryptionOf(config: ExpandedConfig): EncryptionSpec | undefined {
  if (config.encryptionKey === undefined) return undefined;
  return { key: config.encryptionKey, format: config.encryptionFormat };
}

/** Checks `rekeyDatabase`'s target; null means plain. */
export function encryptionTarget(to: EncryptionTarget): EncryptionSpec | null {
  if (typeof to !== "object" || to === null) throw new TypeError("Expected the new encryption as an object");
  const { encryptionKey, encryptionFormat } = to;
  if (encryptionKey !== null && typeof encryptionKey !== "string") {
    throw new TypeError("Expected encryptionKey to be a string, or null to decrypt");
  }
  if (encryptionFormat !== undefined && encryptionFormat !== "libsql" && encryptionFormat !== "authenticated") {
    throw new TypeError(
      `Invalid value for encryptionFormat, expected "libsql" or "authenticated", got ${JSON.stringify(encryptionFormat)}`,
    );
  }
  if (encryptionKey === null) {
    if (encryptionFormat !== undefined) throw new TypeError("encryptionFormat needs an encryptionKey");
    return null;
  }
  return { key: encryptionKey, format: encryptionFormat };
}
