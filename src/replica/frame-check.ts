import { ReplicaErrorCode, replicaError } from "./replica-errors.js";

/** A frame on the wire: 24-byte header, 4096-byte page (§3.2). */
export const FRAME_SIZE = 4120;
const HEADER = 24;

/** Checksums of the last frame checked, to continue the chain into the next response. */
export interface ChainEnd {
  salt1: number;
  salt2: number;
  s1: number;
  s2: number;
  bigEndian: boolean | undefined;
}

/**
 * Checks pulled frames before they are applied: whole frames only, and the
 * WAL's cumulative checksum chain (§3.11) from each frame to the next, so
 * that a damaged or spliced response is refused rather than written into the
 * database. The first frame of a generation cannot be checked (its chain
 * starts in the server's WAL header, which is never sent); the chain restarts
 * wherever the salts change (a new WAL on the server). Returns where the chain
 * ends, for the next response.
 */
export function checkFrames(bytes: Uint8Array, previous: ChainEnd | undefined): ChainEnd {
  if (bytes.byteLength === 0 || bytes.byteLength % FRAME_SIZE !== 0) {
    throw replicaError(
      ReplicaErrorCode.SYNC_PROTOCOL_ERROR,
      `the server sent ${bytes.byteLength} bytes of frames, which is not a whole number of ${FRAME_SIZE}-byte frames`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let chain = previous;
  for (let at = 0; at < bytes.byteLength; at += FRAME_SIZE) {
    const salt1 = view.getUint32(at + 8);
    const salt2 = view.getUint32(at + 12);
    const s1 = view.getUint32(at + 16);
    const s2 = view.getUint32(at + 20);
    let bigEndian: boolean | undefined;
    if (chain && chain.salt1 === salt1 && chain.salt2 === salt2) {
      bigEndian = chainOrder(view, at, chain, s1, s2);
      if (bigEndian === undefined) {
        throw replicaError(
          ReplicaErrorCode.SYNC_PROTOCOL_ERROR,
          `frame ${at / FRAME_SIZE + 1} of the server's response fails its checksum: the response is damaged`,
        );
      }
    }
    chain = { salt1, salt2, s1, s2, bigEndian };
  }
  return chain as ChainEnd;
}

/** The byte order in which the frame at `at` continues `chain` to (s1, s2); undefined when neither does. */
function chainOrder(view: DataView, at: number, chain: ChainEnd, s1: number, s2: number): boolean | undefined {
  const orders = chain.bigEndian === undefined ? [false, true] : [chain.bigEndian];
  for (const bigEndian of orders) {
    let a = chain.s1;
    let b = chain.s2;
    const little = !bigEndian;
    for (let i = at; i < at + 8; i += 8) {
      a = (a + view.getUint32(i, little) + b) >>> 0;
      b = (b + view.getUint32(i + 4, little) + a) >>> 0;
    }
    for (let i = at + HEADER; i < at + FRAME_SIZE; i += 8) {
      a = (a + view.getUint32(i, little) + b) >>> 0;
      b = (b + view.getUint32(i + 4, little) + a) >>> 0;
    }
    if (a === s1 && b === s2) return bigEndian;
  }
  return undefined;
}

/** Frames up to and including the last commit frame in `bytes` (0 when there is none). */
export function committedFrames(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let n = bytes.byteLength / FRAME_SIZE; n > 0; n--) {
    if (view.getUint32((n - 1) * FRAME_SIZE + 4) !== 0) return n;
  }
  return 0;
}
