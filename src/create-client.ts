import type { Client, Config } from "./api.js";
import { LibsqlClient } from "./client.js";
import { type DatabaseKind, type ExpandedConfig, expandConfig } from "./config.js";
import { ErrorCode, LibsqlError } from "./errors.js";
import type { Transport } from "./transport.js";

/** The transports an entry point (Node, browsers, workerd, remote-only) can open. */
export interface Environment {
  /** Name used in errors, e.g. "the Node entry". */
  readonly name: string;
  /** Kinds of local database this entry opens (`memory`, `file`, `opfs`). */
  readonly localKinds: readonly DatabaseKind[];
  /** Opens a local database of one of `localKinds`. */
  readonly local?: (config: ExpandedConfig) => Promise<Transport>;
  /** Opens a remote database over Hrana. */
  readonly remote?: (config: ExpandedConfig) => Promise<Transport>;
  /** Opens an embedded replica (a local database with `syncUrl`). */
  readonly replica?: (config: ExpandedConfig) => Promise<Transport>;
}

/**
 * Validates `config` and builds a client on the environment's transport.
 * Configuration errors throw here, synchronously, as in `@libsql/client`;
 * failures while opening (loading the engine, storage) reject the first call.
 */
export function createClientIn(env: Environment, config: Config | string): Client {
  const expanded = expandConfig(config);
  const open = pickTransport(env, expanded);
  return new LibsqlClient(() => open(expanded), expanded.kind === "remote" ? "http" : "file", expanded.intMode);
}

function pickTransport(env: Environment, config: ExpandedConfig): (config: ExpandedConfig) => Promise<Transport> {
  if (config.syncUrl !== undefined) {
    if (!env.replica) {
      throw new LibsqlError(
        `embedded replicas (syncUrl) are not available in ${env.name}`,
        ErrorCode.SYNC_NOT_SUPPORTED,
      );
    }
    return env.replica;
  }
  const open = config.kind === "remote" ? env.remote : env.localKinds.includes(config.kind) ? env.local : undefined;
  if (!open) {
    throw new LibsqlError(
      `"${config.scheme}:" URLs are not supported by ${env.name}`,
      ErrorCode.URL_SCHEME_NOT_SUPPORTED,
    );
  }
  return open;
}
