import type { Client, Config } from "../../src/api.js";
import { createClient } from "../../src/browser.js";

/**
 * A database the console runs SQL against: the local OPFS one, the remote
 * one, and later a replica. Each opens its client on first use.
 */
export class Target {
  /** Shown beside its results, e.g. `opfs:demo.db`. */
  readonly label: string;
  readonly #config: Config;
  #client: Client | undefined;

  constructor(label: string, config: Config) {
    this.label = label;
    this.#config = config;
  }

  /** The client, opened now if it is not open. */
  client(): Client {
    if (!this.#client || this.#client.closed) this.#client = createClient(this.#config);
    return this.#client;
  }

  /** Closes the client and waits until it gave its database up (for import and delete). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.[Symbol.asyncDispose]();
  }
}
