import { ErrorCode, LibsqlError } from "../errors.js";
import type { SyncConflict } from "./replica-api.js";

/**
 * Codes of embedded-replica failures, beyond the general ones (`NETWORK_ERROR`,
 * `SERVER_ERROR` for an HTTP error status, `SYNC_CONFLICT` for a rejected push).
 */
export const ReplicaErrorCode = {
  /** The server's sync answer cannot be right: frames cut or damaged, a body that is not what the protocol says. */
  SYNC_PROTOCOL_ERROR: "SYNC_PROTOCOL_ERROR",
  /** The files beside the database disagree (a database without replica state, a generation ahead of the server). */
  REPLICA_STATE_INVALID: "REPLICA_STATE_INVALID",
  /** An offline write the replica cannot record: a schema change, or a table without a PRIMARY KEY. */
  OFFLINE_WRITE_REFUSED: "OFFLINE_WRITE_REFUSED",
  /** `encryptionFormat: "authenticated"` with `syncUrl`: a replica's pages are the primary's, with no reserved bytes. */
  ENCRYPTION_FORMAT_NOT_SUPPORTED: "ENCRYPTION_FORMAT_NOT_SUPPORTED",
  /** `rekeyDatabase` on a replica's copy: rebuilt pages would no longer fit the primary's frames. */
  REPLICA_REKEY_REFUSED: "REPLICA_REKEY_REFUSED",
} as const;

/** A replica error with one of the codes above (or a general one). */
export function replicaError(code: string, message: string, cause?: unknown): LibsqlError {
  return new LibsqlError(message, code, undefined, undefined, cause);
}

/** The refusal of `rekeyDatabase` on an embedded replica's local copy. */
export function replicaRekeyRefused(path: string): LibsqlError {
  return replicaError(
    ReplicaErrorCode.REPLICA_REKEY_REFUSED,
    `"${path}" is an embedded replica's copy: changing its key rebuilds its pages, which the primary's frames would no longer fit; open a new replica with the new key instead`,
  );
}

/** `SYNC_CONFLICT`: offline changes the primary refused, with what the app needs to resolve them. */
export class SyncConflictError extends LibsqlError {
  /** The conflicting changes that were kept (nothing was pushed). */
  readonly conflicts: readonly SyncConflict[];

  constructor(message: string, conflicts: readonly SyncConflict[], cause?: unknown) {
    super(message, ErrorCode.SYNC_CONFLICT, undefined, undefined, cause);
    this.name = "SyncConflictError";
    this.conflicts = conflicts;
  }
}
