import type { LibsqlError } from "../../src/errors.js";
import { ReplicaErrorCode, replicaError } from "../../src/replica/replica-errors.js";

/** Page size of replicated databases (the sync protocol's, §3.2). */
export const PAGE_SIZE = 4096;
/** A frame: 24-byte header, then the page. */
export const FRAME_SIZE = 24 + PAGE_SIZE;

/**
 * Whole server transactions merged into one set of pages: applying the set
 * takes the database from the state before the first transaction to the state
 * after the last, and no state in between is ever exposed.
 */
export interface FrameSet {
  /** Frames that belong to complete transactions (up to and including the last commit frame). */
  frames: number;
  /** Latest content of each page at or below `size`. */
  pages: Map<number, Uint8Array>;
  /** Size of the database, in pages, after the last transaction. */
  size: number;
  /** Smallest size the database had before or after any of the transactions. */
  lowest: number;
}

/**
 * Merges the complete transactions at the start of `frames` (4120-byte frames;
 * a trailing transaction without its commit frame is left out) for a database
 * of `before` pages. Later frames of a page win, and a page cut off by a
 * shrinking commit is forgotten, so that pages regrown later read as zeros, as
 * they do on the server.
 */
export function mergeFrames(frames: Uint8Array, before: number): FrameSet {
  if (frames.byteLength % FRAME_SIZE !== 0) {
    throw corrupt(`${frames.byteLength} bytes is not a whole number of ${FRAME_SIZE}-byte frames`);
  }
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  const count = frames.byteLength / FRAME_SIZE;
  const committed = new Map<number, Uint8Array>();
  const pending = new Map<number, Uint8Array>();
  let size = before;
  let lowest = before;
  let complete = 0;
  for (let i = 0; i < count; i++) {
    const at = i * FRAME_SIZE;
    const page = view.getUint32(at);
    const commit = view.getUint32(at + 4);
    if (page === 0) throw corrupt(`frame ${i + 1} of the response names page 0`);
    pending.set(page, frames.subarray(at + 24, at + FRAME_SIZE));
    if (commit === 0) continue;
    for (const [number, bytes] of pending) committed.set(number, bytes);
    pending.clear();
    if (commit < size) {
      for (const number of committed.keys()) if (number > commit) committed.delete(number);
    }
    size = commit;
    lowest = Math.min(lowest, commit);
    complete = i + 1;
  }
  const first = committed.get(1);
  if (first) checkFirstPage(first, size);
  return { frames: complete, pages: committed, size, lowest };
}

/** Page 1 must be an SQLite header of 4096-byte pages whose page count agrees with the commit frame. */
function checkFirstPage(page: Uint8Array, size: number): void {
  const header = "SQLite format 3\0";
  for (let i = 0; i < header.length; i++) {
    if (page[i] !== header.charCodeAt(i)) throw corrupt("page 1 does not start with the SQLite header");
  }
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  if (view.getUint16(16) !== PAGE_SIZE) throw corrupt(`page 1 says the page size is ${view.getUint16(16)}`);
  // The in-header size is only meaningful when its "valid for" counter matches the change counter.
  if (view.getUint32(24) === view.getUint32(92) && view.getUint32(28) !== size) {
    throw corrupt(`page 1 says ${view.getUint32(28)} pages where the commit frame says ${size}`);
  }
}

/** The error for frames that cannot be what the server sent. */
export function corrupt(why: string): LibsqlError {
  return replicaError(ReplicaErrorCode.SYNC_PROTOCOL_ERROR, `the replicated frames are corrupt: ${why}`);
}
