import { ReplicaErrorCode, replicaError } from "./replica-errors.js";

/**
 * What a replica keeps beside its database. It never claims more than the
 * database holds: pages are made durable first, then this is saved; before a
 * batch of frames is applied, `applyingTo` records how far it goes, so that
 * after a crash the frames up to there are applied again in one piece (the
 * database may already hold some of them, and applying a shorter range over
 * them would expose a state the primary never had). The next batch starts at
 * `frameNo + 1` and reaches at least `applyingTo`, so intents only grow, and
 * the database is always at `frameNo` or at the end of one of them.
 */
export interface ReplicaMeta {
  version: 1;
  /** Generation of the primary's history (≥ 1). */
  generation: number;
  /** Last frame of the generation the database holds for sure. */
  frameNo: number;
  /** Frames up to this one may already be in the database: apply through it before anything else. */
  applyingTo?: number | undefined;
  /** The export of `generation` is being written: write it again. */
  bootstrapping?: boolean | undefined;
  /** Offline writes live in the working copy and are not pushed yet. */
  dirty?: boolean | undefined;
  /** Local write calls since the working copy was made. */
  pendingWrites?: number | undefined;
  /** Milliseconds since the epoch of the last successful sync. */
  lastSyncAt?: number | undefined;
}

/** Where a replica's metadata lives: a file in Node, IndexedDB in browsers. */
export interface MetaStore {
  /** The saved metadata, or undefined when there is none. */
  load(): Promise<ReplicaMeta | undefined>;
  /** Saves `meta` durably and atomically (all or nothing). */
  save(meta: ReplicaMeta): Promise<void>;
}

/** Checks metadata read back from storage. */
export function checkMeta(value: unknown, where: string): ReplicaMeta {
  const meta = value as Partial<ReplicaMeta> | null;
  const count = (n: unknown, min: number) => typeof n === "number" && Number.isSafeInteger(n) && n >= min;
  if (
    typeof meta !== "object" ||
    meta === null ||
    meta.version !== 1 ||
    !count(meta.generation, 1) ||
    !count(meta.frameNo, 0) ||
    (meta.applyingTo !== undefined && !count(meta.applyingTo, 0))
  ) {
    throw replicaError(ReplicaErrorCode.REPLICA_STATE_INVALID, `the replica state in ${where} is not valid`);
  }
  return meta as ReplicaMeta;
}
