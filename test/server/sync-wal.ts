import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Page size the sync protocol is fixed to (§3.2). */
export const PAGE_SIZE = 4096;
/** Size of a frame header, in the WAL and on the wire. */
export const FRAME_HEADER_SIZE = 24;
/** A frame on the wire: header plus page. */
export const FRAME_SIZE = FRAME_HEADER_SIZE + PAGE_SIZE;

const WAL_HEADER_SIZE = 32;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;

/**
 * Reads a native database's `-wal` file incrementally and returns the frames of
 * transactions that committed since the last call, verbatim (24-byte header and page),
 * as SQLite's own recovery finds them: frames are valid while their salts match the
 * header and the cumulative checksum chain holds, and only frames up to the last commit
 * frame count. Frames after that (a transaction being written, or left over from one that
 * rolled back) are read again on the next call.
 */
export class WalScanner {
  readonly #path: string;
  #salt1 = 0;
  #salt2 = 0;
  #bigEndian = false;
  /** Frames (and checksums after them) up to the last commit frame read. */
  #committed = 0;
  #s1 = 0;
  #s2 = 0;
  /** True once a header was read; false again after `reset()`. */
  #started = false;

  constructor(walPath: string) {
    this.#path = walPath;
  }

  /** Forgets everything read: the next scan expects a new WAL (after a checkpoint that truncated it). */
  reset(): void {
    this.#started = false;
    this.#committed = 0;
  }

  /** The WAL read before is gone (deleted or truncated): true if it had frames. */
  #lost(): boolean {
    const had = this.#started && this.#committed > 0;
    this.reset();
    return had;
  }

  /**
   * New committed frames since the last call. `restarted` is true when the WAL is no
   * longer the one read before (its salts changed, or it shrank): SQLite checkpointed and
   * restarted it behind this scanner's back, so frames may have been missed.
   */
  scan(): { frames: Buffer[]; restarted: boolean } {
    let fd: number;
    try {
      fd = openSync(this.#path, "r");
    } catch {
      return { frames: [], restarted: this.#lost() };
    }
    try {
      return this.#scan(fd);
    } finally {
      closeSync(fd);
    }
  }

  #scan(fd: number): { frames: Buffer[]; restarted: boolean } {
    const size = fstatSync(fd).size;
    if (size < WAL_HEADER_SIZE) return { frames: [], restarted: this.#lost() };
    const header = Buffer.alloc(WAL_HEADER_SIZE);
    readSync(fd, header, 0, WAL_HEADER_SIZE, 0);
    const magic = header.readUInt32BE(0);
    if ((magic !== MAGIC_LE && magic !== MAGIC_BE) || header.readUInt32BE(8) !== PAGE_SIZE) {
      return { frames: [], restarted: false };
    }
    const salt1 = header.readUInt32BE(16);
    const salt2 = header.readUInt32BE(20);
    let restarted = false;
    if (this.#started && (salt1 !== this.#salt1 || salt2 !== this.#salt2)) {
      restarted = this.#committed > 0;
      this.#started = false;
    }
    if (!this.#started) {
      this.#bigEndian = magic === MAGIC_BE;
      const [s1, s2] = checksum(header.subarray(0, 24), 0, 0, this.#bigEndian);
      if (s1 !== header.readUInt32BE(24) || s2 !== header.readUInt32BE(28)) return { frames: [], restarted };
      this.#salt1 = salt1;
      this.#salt2 = salt2;
      this.#s1 = s1;
      this.#s2 = s2;
      this.#committed = 0;
      this.#started = true;
    }
    const available = Math.floor((size - WAL_HEADER_SIZE) / FRAME_SIZE);
    if (available < this.#committed) {
      // The WAL shrank under the same salts: it can only have been truncated and rewritten.
      this.reset();
      return { frames: [], restarted: true };
    }
    const frames: Buffer[] = [];
    const pending: Buffer[] = [];
    let s1 = this.#s1;
    let s2 = this.#s2;
    const count = available - this.#committed;
    if (count === 0) return { frames, restarted };
    const bytes = Buffer.alloc(count * FRAME_SIZE);
    readSync(fd, bytes, 0, bytes.length, WAL_HEADER_SIZE + this.#committed * FRAME_SIZE);
    for (let i = 0; i < count; i++) {
      const frame = bytes.subarray(i * FRAME_SIZE, (i + 1) * FRAME_SIZE);
      if (frame.readUInt32BE(8) !== this.#salt1 || frame.readUInt32BE(12) !== this.#salt2) break;
      [s1, s2] = checksum(frame.subarray(0, 8), s1, s2, this.#bigEndian);
      [s1, s2] = checksum(frame.subarray(FRAME_HEADER_SIZE), s1, s2, this.#bigEndian);
      if (s1 !== frame.readUInt32BE(16) || s2 !== frame.readUInt32BE(20)) break;
      pending.push(Buffer.from(frame));
      if (frame.readUInt32BE(4) !== 0) {
        frames.push(...pending);
        pending.length = 0;
        this.#s1 = s1;
        this.#s2 = s2;
      }
    }
    this.#committed += frames.length;
    return { frames, restarted };
  }
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `s1`/`s2`. */
function checksum(data: Buffer, s1: number, s2: number, bigEndian: boolean): [number, number] {
  let a = s1;
  let b = s2;
  const n = data.length;
  if (bigEndian) {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32BE(i) + b) >>> 0;
      b = (b + data.readUInt32BE(i + 4) + a) >>> 0;
    }
  } else {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32LE(i) + b) >>> 0;
      b = (b + data.readUInt32LE(i + 4) + a) >>> 0;
    }
  }
  return [a, b];
}
