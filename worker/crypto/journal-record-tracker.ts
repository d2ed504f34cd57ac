/** SQLite's PENDING_BYTE: the page holding it (the lock-byte page) is never journaled. */
const PENDING_BYTE = 0x40000000;

/**
 * Recognises the page images in a rollback journal, so the VFS encrypts and
 * decrypts exactly those and nothing else (headers, page numbers and
 * checksums stay clear, as in native libSQL).
 *
 * SQLite writes and reads a journal record as three calls: the page number
 * (4 bytes, big-endian) at `o`, the page image (page size) at `o + 4`, the
 * checksum (4 bytes) at `o + 4 + pageSize` (`pagerAddPageToRollbackJournal`,
 * `pager_playback_one_page` in `pager.c`). The strict rule here: a page-sized
 * call is a page image only if the call **immediately before it** on this
 * file was a 4-byte page number at exactly `offset − 4`; that 4-byte call was
 * not the checksum slot of the image before; and the number is a real page
 * (not 0, not the lock-byte page).
 *
 * SQLite3 Multiple Ciphers instead encrypts any page-sized write after any
 * 4-byte write. With 4096-byte sectors and pages a new journal header is one
 * page-sized write following the previous record's checksum, so it got
 * encrypted and crash recovery kept part of an uncommitted transaction.
 * Checking only "at the last 4-byte offset + 4" is not enough either: when a
 * record ends on a sector boundary the next header sits exactly there; the
 * checksum-slot and "immediately before" conditions exclude that case.
 *
 * The image size is the page size the journal's first header records (what
 * SQLite's playback uses too, even if the database's page size has changed
 * since), learnt from the header write at offset 0 or the page-size field
 * read at offset 24; until one is seen, the caller's page size.
 *
 * The VFS must report **every** read and write on the journal file, in order,
 * and call `reset()` on truncation.
 */
export class JournalRecordTracker {
  /** Offset of the pending page-number call, or -1. */
  #numberAt = -1;
  #number = 0;
  /** Offset just past the last page image: its checksum slot. */
  #checksumAt = -1;
  /** Page size from the journal header, or 0 if none seen. */
  #headerPageSize = 0;

  /**
   * Reports one read or write of `bytes` (for a read: what was read) at
   * `offset`; returns the page number if the call is a page image to encrypt
   * or decrypt, else 0. `databasePageSize` is used until the journal header says otherwise.
   */
  observe(offset: number, bytes: Uint8Array, databasePageSize: number): number {
    const length = bytes.length;
    if (offset === 0 && length >= 28) this.#learnPageSize(bytes, 24);
    else if (offset === 24 && length === 4) this.#learnPageSize(bytes, 0);
    const pageSize = this.#headerPageSize || databasePageSize;
    if (length === pageSize && this.#numberAt >= 0 && offset === this.#numberAt + 4) {
      const pageNo = this.#number;
      this.#numberAt = -1;
      this.#checksumAt = offset + pageSize;
      return pageNo === 0 || pageNo === Math.floor(PENDING_BYTE / pageSize) + 1 ? 0 : pageNo;
    }
    const isChecksum = length === 4 && offset === this.#checksumAt;
    this.#numberAt = -1;
    this.#checksumAt = -1;
    if (length === 4 && !isChecksum) {
      this.#numberAt = offset;
      this.#number = be32(bytes, 0);
    }
    return 0;
  }

  #learnPageSize(bytes: Uint8Array, at: number): void {
    const size = be32(bytes, at);
    // A zeroed header (journal_mode=PERSIST after commit) says nothing.
    if (size >= 512 && size <= 65536 && (size & (size - 1)) === 0) this.#headerPageSize = size;
  }

  /** Forgets all state (journal truncated, deleted or reopened). */
  reset(): void {
    this.#numberAt = -1;
    this.#checksumAt = -1;
    this.#headerPageSize = 0;
  }
}

function be32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
