import type { Client, Config } from "../../src/api.js";

/** What differs between transports, where the behavioural suite must know. */
export interface Capabilities {
  /** Errors carry SQLite extended codes (`SQLITE_CONSTRAINT_UNIQUE`) and `rawCode`. Remote Hrana does not. */
  extendedCodes: boolean;
  /**
   * The database runs in libsql-web's own wasm engine (in-process or in a worker): plain SQLite errors arrive
   * as `SQLITE_ERROR`, invalid UTF-8 reads as U+FFFD, and blobs of any size pass. A server has its own rules.
   */
  localEngine: boolean;
  /** `metadata()` reflects the connection the client's calls ran on (remote calls each use a fresh stream). */
  sharedConnection: boolean;
}

/**
 * How the behavioural suite gets clients of one transport. `create` must
 * return a client on a fresh, empty database; the suite closes it.
 */
export interface ClientFactory {
  readonly name: string;
  readonly caps: Capabilities;
  create(config?: Partial<Config>): Promise<Client>;
}

/** Runs `body` with a fresh client and always closes it. */
export async function withClient<T>(
  factory: ClientFactory,
  body: (client: Client) => Promise<T>,
  config?: Partial<Config>,
): Promise<T> {
  const client = await factory.create(config);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
