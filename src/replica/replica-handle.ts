import type { Replicated } from "../api.js";
import type { LibsqlError } from "../errors.js";
import type { Replica, ReplicaEvent, ReplicaOptions, ReplicaState, SyncProgress } from "./replica-api.js";
import type { ReplicaMeta } from "./replica-meta.js";

/**
 * The `client.replica` object: the replica's state as its transport reports
 * it, and the listeners of its events. It outlives transports, so that
 * `reconnect()` keeps subscriptions; a listener that throws is ignored.
 */
export class ReplicaHandle implements Replica {
  readonly options: ReplicaOptions;
  readonly #listeners = new Set<(event: ReplicaEvent) => void>();
  #state: ReplicaState = Object.freeze({
    ready: false,
    generation: undefined,
    frameNo: undefined,
    pendingWrites: 0,
    syncing: false,
    lastSyncAt: undefined,
    lastError: undefined,
  });

  constructor(options: ReplicaOptions) {
    this.options = options;
  }

  state(): ReplicaState {
    return this.#state;
  }

  subscribe(listener: (event: ReplicaEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes the persistent part of the state from the metadata. */
  fromMeta(meta: ReplicaMeta): void {
    this.#update({
      ready: true,
      generation: meta.generation,
      frameNo: meta.frameNo,
      pendingWrites: meta.dirty ? Math.max(1, meta.pendingWrites ?? 0) : 0,
      lastSyncAt: meta.lastSyncAt === undefined ? this.#state.lastSyncAt : new Date(meta.lastSyncAt),
    });
  }

  /** A sync started or ended. */
  syncing(syncing: boolean): void {
    this.#update({ syncing });
  }

  /** A sync failed (it may have been a pull after a write that itself succeeded). */
  failed(error: LibsqlError): void {
    this.#update({ lastError: error });
    this.#emit({ type: "sync-error", error });
  }

  /** A sync succeeded. */
  synced(result: NonNullable<Replicated>, at: Date): void {
    this.#update({ lastError: undefined, lastSyncAt: at });
    this.#emit({ type: "synced", result });
  }

  /** Progress of a sync phase. */
  progress(progress: SyncProgress): void {
    try {
      this.options.onSyncProgress?.(progress);
    } catch {
      // A failing progress callback must not fail the sync.
    }
    this.#emit({ type: "progress", progress });
  }

  #update(change: Partial<ReplicaState>): void {
    this.#state = Object.freeze({ ...this.#state, ...change });
    this.#emit({ type: "state", state: this.#state });
  }

  #emit(event: ReplicaEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // Listeners are the app's; their failures are theirs.
      }
    }
  }
}
