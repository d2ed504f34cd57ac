import { codecMisuseError } from "./encryption-errors.js";

/**
 * What the encrypting VFS calls for every main-database page and every
 * rollback-journal page image. All methods are synchronous (VFS callbacks
 * are) and throw a `LibsqlError` whose `rawCode` is the SQLite result code to
 * return from the VFS method; the VFS keeps the error for the engine.
 *
 * Buffers: `plain`/`cipher` are one whole page (its length is the page size);
 * `out` may be the same array as the input (in place) or a disjoint one, never
 * a partly overlapping view. After a throw the contents of `out` are
 * unspecified and must not reach SQLite or the disk.
 */
export interface PageCodec {
  /** Bytes at the end of every page the codec owns (header byte 20 must equal it; 0 = none). */
  readonly reserveBytes: number;
  /** Encrypts page `pageNo` (1-based) of `plain` into `out`. */
  encryptPage(pageNo: number, plain: Uint8Array, out: Uint8Array): void;
  /** Decrypts page `pageNo` of `cipher` into `out`; throws on a wrong key (page 1) or a failed check. */
  decryptPage(pageNo: number, cipher: Uint8Array, out: Uint8Array): void;
  /**
   * Plaintext bytes `[offset, offset + out.length)` of page `pageNo`, given the
   * whole on-disk page: for SQLite's short header reads (100 bytes at 0, 16 at
   * 24) without paying for a whole-page decryption where the format allows it.
   */
  decryptRange(pageNo: number, cipher: Uint8Array, offset: number, out: Uint8Array): void;
}

/** Checks a codec call's page number and buffers; returns the page size. Fails closed on misuse. */
export function checkPageArgs(pageNo: number, input: Uint8Array, out: Uint8Array): number {
  const size = input.length;
  if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > 0xfffffffe) throw codecMisuseError("bad page number");
  if (size < 512 || size > 65536 || (size & (size - 1)) !== 0) throw codecMisuseError("bad page size");
  if (out.length !== size) throw codecMisuseError("output size differs from the page size");
  return size;
}
