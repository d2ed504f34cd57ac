import type { Client, Config, Replicated, Value } from "../api.js";
import type { LibsqlError } from "../errors.js";

/**
 * The public contract of embedded replicas: what `createClient({ url, syncUrl })`
 * adds to `@libsql/client`'s options and client.
 *
 * @example
 * const client = createClient({
 *   url: "file:local.db",
 *   syncUrl: "libsql://my-db.turso.io",
 *   authToken,
 *   onSyncProgress: (p) => bar.update(p.bytesDone, p.bytesExpected),
 * });
 * await client.sync();
 * const { generation, frameNo, pendingWrites, lastError } = client.replica.state();
 */

/** Options of an embedded replica beyond `@libsql/client`'s `Config`. */
export interface ReplicaOptions {
  /** Called as a bootstrap, pull or push makes progress (for a progress bar). */
  onSyncProgress?: (progress: SyncProgress) => void;
  /**
   * Decides about an offline change the primary refused. Without it, every
   * conflict is `"keep"`: the sync fails with `SYNC_CONFLICT` and the change
   * stays pending. Nothing is ever dropped without the app saying so.
   */
  onConflict?: (conflict: SyncConflict) => ConflictResolution | Promise<ConflictResolution>;
  /**
   * With online writes (the default), apply a write locally when the primary
   * cannot be reached, and push it at the next successful sync. A write whose
   * request reached the primary before the connection broke may then be pushed
   * twice; the push recognises a change the primary already has and skips it,
   * and reports any other difference as a conflict. Default false.
   */
  offlineWhenUnreachable?: boolean;
}

/** `Config` plus the replica's own options. */
export interface ReplicaConfig extends Config, ReplicaOptions {}

/** A client of an embedded replica. */
export interface ReplicaClient extends Client {
  /** The replica's state, progress and errors. */
  readonly replica: Replica;
}

/** State and events of an embedded replica. */
export interface Replica {
  /** A snapshot of the replica's state now. */
  state(): ReplicaState;
  /** Calls `listener` on every event; returns a function that unsubscribes. */
  subscribe(listener: (event: ReplicaEvent) => void): () => void;
}

/** Where a replica stands. */
export interface ReplicaState {
  /** True once the local database was opened (and bootstrapped if needed). */
  ready: boolean;
  /** Generation of the primary's history the local database is in; undefined before the first bootstrap. */
  generation: number | undefined;
  /** Last frame of that generation applied locally (0 right after a bootstrap or a generation change). */
  frameNo: number | undefined;
  /** Local writes (statements, batches, transactions) not pushed to the primary yet. */
  pendingWrites: number;
  /** True while a sync is running. */
  syncing: boolean;
  /** When the last sync succeeded. */
  lastSyncAt: Date | undefined;
  /** Why the last sync failed; cleared by the next successful one. */
  lastError: LibsqlError | undefined;
}

/** Progress of one phase of a sync. */
export interface SyncProgress {
  /** `bootstrap`: downloading the database; `pull`: fetching and applying frames; `push`: sending offline changes. */
  phase: "bootstrap" | "pull" | "push";
  /** Bytes received (bootstrap, pull) so far in this phase. */
  bytesDone: number;
  /** Bytes expected in this phase, when known. */
  bytesExpected: number | undefined;
  /** Frames applied (pull) or changes pushed (push) so far. */
  framesDone: number;
  /** Frames (pull) or changes (push) expected, when known. */
  framesExpected: number | undefined;
}

/** Something that happened to a replica. */
export type ReplicaEvent =
  | { type: "progress"; progress: SyncProgress }
  | { type: "synced"; result: NonNullable<Replicated> }
  | { type: "sync-error"; error: LibsqlError }
  | { type: "state"; state: ReplicaState };

/** A row as the conflict reports it: values by column name. */
export type ConflictRow = Record<string, Value>;

/**
 * An offline change the primary did not take as it was:
 * - `constraint`: the statement failed (a UNIQUE, NOT NULL, CHECK or foreign
 *   key constraint, or the row already exists for an insert);
 * - `missing`: the row to update or delete is not on the primary any more;
 * - `changed`: the row is there, but someone changed the columns this change
 *   changes (update) or any column (delete) since the replica last synced.
 */
export interface SyncConflict {
  reason: "constraint" | "missing" | "changed";
  table: string;
  operation: "insert" | "update" | "delete";
  /** The primary key of the changed row. */
  key: ConflictRow;
  /** The row before the local change (for updates, only the key and changed columns). */
  before: ConflictRow | undefined;
  /** The row after the local change (for updates, only the key and changed columns). */
  after: ConflictRow | undefined;
  /** The row as the primary has it now; undefined when it has none. */
  current: ConflictRow | undefined;
  /** The primary's error, for `constraint`. */
  error: LibsqlError | undefined;
}

/**
 * What to do with a conflicting change:
 * - `keep`: stop; the sync fails with `SYNC_CONFLICT` and every local change stays pending;
 * - `discard`: drop this change (the app has its data from the conflict) and push the rest;
 * - `overwrite`: push it anyway by primary key (an insert replaces the row; an update or
 *   delete no longer checks the old values; a row the primary no longer has stays gone).
 */
export type ConflictResolution = "keep" | "discard" | "overwrite";
