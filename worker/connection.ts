import type { Database } from "./database.js";

/**
 * One engine connection: a client's (or a transaction's) view of a database.
 * Several connections share the database's SQLite handle; the database lock
 * keeps their calls and transactions apart.
 */
export class Connection {
  readonly id: number;
  readonly db: Database<Connection>;
  /** How long a call waits for another connection's transaction, in ms (< 0: no limit). */
  readonly busyTimeoutMs: number;
  /** Prepared statement and cursor handles this connection owns. */
  readonly statements = new Set<number>();
  readonly cursors = new Set<number>();
  /**
   * A `runMany` sent in parts, between its first part and its last: the
   * offset the next part must start at, and (once one failed) why the parts
   * left will not run.
   */
  bulk: { next: number; failed: unknown } | undefined;
  closed = false;

  constructor(id: number, db: Database<Connection>, busyTimeoutMs: number) {
    this.id = id;
    this.db = db;
    this.busyTimeoutMs = busyTimeoutMs;
  }
}
