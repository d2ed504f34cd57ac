import type { ReplicaEngineApi, ReplicaOfflineApi } from "../proto.js";
import type { Transport } from "../transport.js";
import type { ReplicaEngine } from "./replica-puller.js";

/** The engine calls of a replica with offline writes. */
export type OfflineReplicaEngine = ReplicaEngine & ReplicaEngineApi & ReplicaOfflineApi;

/**
 * What a replica's streams ask of their transport: where reads go, how a
 * write is routed (to the primary, or into the working copy), and what to do
 * after a remote write committed.
 */
export interface ReplicaRouter {
  readonly engine: OfflineReplicaEngine;
  /** The primary, over Hrana. */
  readonly remote: Transport;
  /** The connection reads use now: the working copy while offline writes are pending, else the replica. */
  readConn(): number;
  /** The connection to the replicated database. */
  readonly syncedConn: number;
  /** True when writes go into the working copy (offline mode, or offline writes pending). */
  writesLocally(): boolean;
  /**
   * Runs a write: `online` against the primary (then pulls, unless `pull` is
   * false), or `offline` in the working copy; falls back from the first to
   * the second when the primary is unreachable and the app allowed it.
   */
  write<T>(online: () => Promise<T>, offline: (work: number) => Promise<T>, pull?: boolean): Promise<T>;
  /** A remote write committed outside `write` (a transaction, a cursor): pull now if reading your writes. */
  afterRemoteWrite(): Promise<void>;
  /**
   * Holds the offline gate shared and makes sure the working copy exists,
   * for a transaction in it; returns its connection and the release.
   */
  enterWorkingCopy(): Promise<{ work: number; release: () => void }>;
  /** Counts a committed local write (for `pendingWrites`). */
  countLocalWrite(): Promise<void>;
  /** Turns the engine's refusal of an offline write into an explanation; other errors pass. */
  explain(error: unknown, work: number): Promise<unknown>;
  /** True when `error` says the primary could not be reached and the app wants offline writes then. */
  fallsBack(error: unknown): boolean;
}

const COMMIT = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(COMMIT|END)\b/i;
const READ_ONLY_BEGIN = /^\s*BEGIN\s+(TRANSACTION\s+)?READONLY\b/i;

/** True for COMMIT and END statements. */
export function isCommit(sql: string): boolean {
  return COMMIT.test(sql);
}

/** True for the BEGIN of a read-only transaction. */
export function isReadOnlyBegin(sql: string): boolean {
  return READ_ONLY_BEGIN.test(sql);
}
