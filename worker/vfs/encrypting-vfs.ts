import { ErrorCode, LibsqlError } from "../../src/errors.js";
import { type DatabaseCipher, DEFAULT_PAGE_SIZE } from "../crypto/database-cipher.js";
import { headerPageSize } from "../crypto/database-header.js";
import { EncryptionErrorCode, notADatabaseError } from "../crypto/encryption-errors.js";
import { JournalRecordTracker } from "../crypto/journal-record-tracker.js";
import type { PageCodec } from "../crypto/page-codec.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import { installWrappingVfs, type WrappedFile, type WrappingVfs } from "./wrapping-vfs.js";

const OPEN = {
  MAIN_DB: 0x100,
  MAIN_JOURNAL: 0x800,
  SUPER_JOURNAL: 0x4000,
  WAL: 0x80000,
} as const;

const RC = {
  OK: 0,
  ERROR: 1,
  CANTOPEN: 14,
  IOERR_READ: 266,
  IOERR_SHORT_READ: 522,
  IOERR_WRITE: 778,
} as const;

const FCNTL_PRAGMA = 14;
const FCNTL_RESERVE_BYTES = 38;
const MAX_PAGE = 65536;
const HEAD = 100;

/** A database file (main or attached) and what is known about it. */
interface MainState {
  readonly kind: "main";
  readonly name: string;
  /** Resolved from the file's page 1 at its first use (or for a new file, at its first write). */
  codec: PageCodec | null;
  /** Page size from the file (its header, the last page-1 write), or from `PRAGMA page_size` while it has none; 0 until known. */
  pageSize: number;
  /** True once `pageSize` comes from the file itself. */
  sizeFromFile: boolean;
  /** Handles open on this name through the VFS. */
  opens: number;
}

interface JournalState {
  readonly kind: "journal";
  readonly main: MainState;
  readonly tracker: JournalRecordTracker;
}

/** A super-journal: file names only, kept clear as SQLite3 Multiple Ciphers does. */
interface ClearState {
  readonly kind: "clear";
}

type FileState = MainState | JournalState | ClearState;
type File = WrappedFile<FileState>;

/** Options of `installEncryptingVfs`. */
export interface EncryptingVfsOptions {
  /** Name to register the VFS under. */
  name: string;
  /** The storage's VFS underneath (already registered). */
  base: string;
  /** The encryption of every database file opened through this VFS (attached ones get it too, as natively). */
  cipher: DatabaseCipher;
  /**
   * Show page 1 as a rollback-journal database when its header says WAL:
   * only when the storage found no WAL file with frames beside it (a file
   * another program left in WAL mode and checkpointed).
   */
  walToRollback?: boolean;
}

/**
 * Registers a VFS that keeps database files encrypted over the storage's VFS
 * (`opfs-sahpool` with lock tracking, `opfs`, Node files), page by page and
 * synchronously: whole pages are encrypted in `xWrite` (into a buffer of its
 * own, never SQLite's page) and decrypted in `xRead`; SQLite's short header
 * reads decrypt only the CBC blocks they need; rollback-journal page images
 * are recognised by `JournalRecordTracker`'s strict rule and use the
 * database's codec. Everything else about a file (headers, page numbers and
 * checksums of the journal, super-journals) stays as SQLite wrote it, which
 * is what native libSQL does.
 *
 * Refused, so that nothing reaches a file in clear: WAL files (`journal_mode
 * =WAL` fails at once with a clear message), temporary files and statement
 * journals on disk (`temp_store` other than MEMORY), and writes that are not
 * whole pages. Failures keep their `LibsqlError` for the engine to report
 * (`Sqlite.reportVfsError`), so a wrong key is `SQLITE_NOTADB` with
 * `extendedCode` `ENCRYPTION_KEY_WRONG`, a changed page `ENCRYPTION_TAMPERED`.
 *
 * Lock methods go to the VFS underneath, which must answer
 * `xCheckReservedLock` truthfully (hot journals are rolled back only then).
 */
export function installEncryptingVfs(sqlite: Sqlite, options: EncryptingVfsOptions): WrappingVfs {
  const { cipher } = options;
  const mains = new Map<string, MainState>();
  // One page for encrypting into or reading a raw page 1, then room for a raw header.
  const scratch = sqlite.malloc(MAX_PAGE + HEAD);
  const headAt = scratch + MAX_PAGE;

  const report = (error: LibsqlError, fallback: number): number => {
    const rc = error.rawCode ?? fallback;
    sqlite.reportVfsError(
      error.rawCode === undefined
        ? new LibsqlError(error.message, error.code, error.extendedCode, fallback, error.cause)
        : error,
    );
    return rc;
  };
  const guard = (fallback: number, body: () => number): number => {
    try {
      return body();
    } catch (error) {
      if (error instanceof LibsqlError) return report(error, fallback);
      return report(
        new LibsqlError(
          `encryption failed: ${(error as Error)?.message ?? String(error)}`,
          ErrorCode.INTERNAL_ERROR,
          undefined,
          fallback,
          error,
        ),
        fallback,
      );
    }
  };
  const refuse = (message: string, rc: number): never => {
    throw new LibsqlError(message, sqlite.codeName(rc & 0xff), sqlite.codeName(rc), rc);
  };
  const heap = (p: number, n: number): Uint8Array => sqlite.u8.subarray(p, p + n);

  /** The first bytes of the file as stored, or null when it has none yet (new or all zeros). */
  const rawHead = (file: File): Uint8Array | null => {
    const rc = file.base.xRead(headAt, HEAD, 0n);
    if (rc !== RC.OK && rc !== RC.IOERR_SHORT_READ) refuse("could not read the database header", rc);
    const head = heap(headAt, HEAD).slice();
    return isZero(head) ? null : head;
  };

  const codecOf = (file: File, state: MainState): PageCodec => {
    if (state.codec) return state.codec;
    const head = rawHead(file);
    const codec = cipher.codecFor(head);
    state.codec = codec;
    if (head && !state.sizeFromFile) learnPageSize(state, headerPageSize(head));
    return codec;
  };

  const learnPageSize = (state: MainState, size: number): void => {
    state.pageSize = size;
    state.sizeFromFile = true;
  };

  /**
   * The page size of a main-file read of `n` bytes at `offset`, or 0 for a
   * short header read. SQLite reads one page per call; several pages in one
   * call come from below SQLite (a replica) and use the file's page size.
   */
  const readLayout = (state: MainState, n: number, offset: number): number => {
    if (isPageSize(n)) return offset % n === 0 ? n : 0;
    const size = state.pageSize || DEFAULT_PAGE_SIZE;
    return n % size === 0 && offset % size === 0 ? size : 0;
  };

  /**
   * The page size of a main-file write, or 0 to refuse it. SQLite writes one
   * page per call, of the file's page size (or, for a file with no page yet,
   * the one `PRAGMA page_size` set). Writers below SQLite (a replica) may
   * write several whole pages per call, but only in a length that cannot be
   * one page (not a power of two, or over 64 KiB): two pages of 4096 bytes
   * look exactly like one of 8192, and a wrong guess would store garbage.
   */
  const writeLayout = (state: MainState, n: number, offset: number, data: Uint8Array): number => {
    const known = state.pageSize;
    if (isPageSize(n)) return offset % n === 0 && (known === 0 || n === known) ? n : 0;
    const size = known || (offset === 0 && n >= HEAD ? headerPageSize(data) : 0) || DEFAULT_PAGE_SIZE;
    return n % size === 0 && offset % size === 0 ? size : 0;
  };

  const patchHeader = (page1: Uint8Array, from: number): void => {
    if (!options.walToRollback) return;
    for (const at of [18, 19]) {
      if (at >= from && at < from + page1.length && page1[at - from] === 2) page1[at - from] = 1;
    }
  };

  const readMain = (file: File, state: MainState, pDest: number, n: number, offset: bigint): number => {
    const at = Number(offset);
    const size = readLayout(state, n, at);
    if (size === 0) return readHeader(file, state, pDest, n, at);
    const rc = file.base.xRead(pDest, n, offset);
    if (rc !== RC.OK && rc !== RC.IOERR_SHORT_READ) return rc;
    for (let done = 0; done < n; done += size) {
      const pageNo = (at + done) / size + 1;
      const page = heap(pDest + done, size);
      // Past the end of the file (a short read) or a page 1 never written: zeros pass through as they are.
      if ((rc === RC.IOERR_SHORT_READ || pageNo === 1) && isZero(page)) continue;
      codecOf(file, state).decryptPage(pageNo, page, page);
      if (pageNo === 1) patchHeader(page, 0);
    }
    return rc;
  };

  /** SQLite's short reads of page 1 (100 bytes at 0, 16 at 24): decrypt only what they need. */
  const readHeader = (file: File, state: MainState, pDest: number, n: number, at: number): number => {
    // The page size is known after the first read: then one raw read of page 1 is all it takes.
    let size = state.pageSize;
    if (size === 0) {
      const head = rawHead(file);
      if (head === null) return file.base.xRead(pDest, n, BigInt(at));
      size = headerPageSize(head);
      if (size === 0) {
        codecOf(file, state);
        throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
      }
    }
    let rc = file.base.xRead(scratch, size, 0n);
    if (rc !== RC.OK && rc !== RC.IOERR_SHORT_READ) return rc;
    if (isZero(heap(scratch, HEAD))) return file.base.xRead(pDest, n, BigInt(at));
    const stored = headerPageSize(heap(scratch, HEAD));
    if (stored !== size) {
      // VACUUM changed the page size since, or the file is not in this format at all.
      if (stored === 0) {
        codecOf(file, state);
        throw notADatabaseError(EncryptionErrorCode.FORMAT_MISMATCH);
      }
      size = stored;
      rc = file.base.xRead(scratch, size, 0n);
      if (rc !== RC.OK && rc !== RC.IOERR_SHORT_READ) return rc;
    }
    if (at + n > size) refuse("refused a read across pages of an encrypted database", RC.IOERR_READ);
    const codec = codecOf(file, state);
    const out = heap(pDest, n);
    codec.decryptRange(1, heap(scratch, size), at, out);
    patchHeader(out, at);
    learnPageSize(state, size);
    return RC.OK;
  };

  const writeMain = (file: File, state: MainState, pSrc: number, n: number, offset: bigint): number => {
    const at = Number(offset);
    const size = writeLayout(state, n, at, heap(pSrc, Math.min(n, HEAD)));
    if (size === 0) {
      refuse(
        "refused a write to an encrypted database that is not one page or whole pages of its page size " +
          "(below SQLite, write one page per call)",
        RC.IOERR_WRITE,
      );
    }
    // VACUUM after `PRAGMA page_size` copies the new pages into the old page size (backup.c), so the file
    // would be read at a size it was not encrypted with. Page 1 carries the new size in its header: refuse
    // it, and the transaction rolls back whatever was written before.
    const declared = at === 0 ? headerPageSize(heap(pSrc, HEAD)) : size;
    if (declared !== 0 && declared !== size) {
      refuse(
        "the page size of an encrypted database cannot be changed by VACUUM (its pages would be encrypted at " +
          "the old size); decrypt it with rekeyDatabase, change the page size, then encrypt it again",
        RC.IOERR_WRITE,
      );
    }
    const codec = codecOf(file, state);
    for (let done = 0; done < n; done += size) {
      const pageNo = (at + done) / size + 1;
      codec.encryptPage(pageNo, heap(pSrc + done, size), heap(scratch, size));
      const rc = file.base.xWrite(scratch, size, BigInt(at + done));
      if (rc !== RC.OK) return rc;
      if (!state.sizeFromFile) learnPageSize(state, size);
    }
    return RC.OK;
  };

  const journalPageSize = (state: JournalState): number => state.main.pageSize || DEFAULT_PAGE_SIZE;

  /** The main-file state of a journal named `<database>-journal`. */
  const mainOf = (name: string): MainState => {
    const main = name.endsWith("-journal") ? mains.get(name.slice(0, -"-journal".length)) : undefined;
    if (!main) refuse("a rollback journal was opened for a database that is not open here", RC.CANTOPEN);
    return main as MainState;
  };

  const vfs = installWrappingVfs<FileState>(sqlite, {
    name: options.name,
    base: options.base,
    hooks: {
      open(file) {
        const { flags, name } = file;
        if (flags & OPEN.MAIN_DB) {
          let state = mains.get(name);
          if (!state) {
            state = { kind: "main", name, codec: null, pageSize: 0, sizeFromFile: false, opens: 0 };
            mains.set(name, state);
          }
          state.opens++;
          return state;
        }
        try {
          if (flags & OPEN.MAIN_JOURNAL)
            return { kind: "journal", main: mainOf(name), tracker: new JournalRecordTracker() };
          if (flags & OPEN.SUPER_JOURNAL) return { kind: "clear" };
          if (flags & OPEN.WAL) {
            refuse(
              "an encrypted database cannot use WAL; checkpoint it where it was written in WAL mode " +
                "(PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE) and open it again",
              RC.CANTOPEN,
            );
          }
          return refuse(
            "encrypted databases keep temporary files in memory (temp_store=MEMORY); this file would be in clear",
            RC.CANTOPEN,
          );
        } catch (error) {
          if (error instanceof LibsqlError) report(error, RC.CANTOPEN);
          throw error;
        }
      },
      close(file) {
        const state = file.state;
        if (state.kind !== "main" || --state.opens > 0) return;
        mains.delete(state.name);
      },
      xRead(file, pDest, n, offset) {
        return guard(RC.IOERR_READ, () => {
          const state = file.state;
          if (state.kind === "main") return readMain(file, state, pDest, n, offset);
          const rc = file.base.xRead(pDest, n, offset);
          if (state.kind === "clear") return rc;
          const bytes = heap(pDest, n);
          const pageNo = state.tracker.observe(Number(offset), bytes, journalPageSize(state));
          if (pageNo !== 0 && rc === RC.OK) codecOf(file, state.main).decryptPage(pageNo, bytes, bytes);
          return rc;
        });
      },
      xWrite(file, pSrc, n, offset) {
        return guard(RC.IOERR_WRITE, () => {
          const state = file.state;
          if (state.kind === "main") return writeMain(file, state, pSrc, n, offset);
          if (state.kind === "clear") return file.base.xWrite(pSrc, n, offset);
          const pageNo = state.tracker.observe(Number(offset), heap(pSrc, n), journalPageSize(state));
          if (pageNo === 0) return file.base.xWrite(pSrc, n, offset);
          codecOf(file, state.main).encryptPage(pageNo, heap(pSrc, n), heap(scratch, n));
          return file.base.xWrite(scratch, n, offset);
        });
      },
      xTruncate(file, size) {
        if (file.state.kind === "journal") file.state.tracker.reset();
        return file.base.xTruncate(size);
      },
      xFileControl(file, op, pArg) {
        const state = file.state;
        if (op !== FCNTL_PRAGMA || state.kind !== "main") return file.base.xFileControl(op, pArg);
        // A file with no page yet gets its page size from this PRAGMA: know it before the first write.
        const pageSize = pragmaPageSize(sqlite, pArg);
        if (pageSize !== 0 && !state.sizeFromFile) state.pageSize = pageSize;
        const refusal = refusedPragma(sqlite, pArg);
        if (refusal === null) return file.base.xFileControl(op, pArg);
        // SQLite reports azArg[0] as the statement's error and frees it.
        sqlite.i32[pArg >> 2] = sqlite.encodeOwned(refusal);
        return RC.ERROR;
      },
    },
  });

  return {
    name: vfs.name,
    get openFiles() {
      return vfs.openFiles;
    },
    dispose() {
      vfs.dispose();
      sqlite.x.sqlite3_free(scratch);
    },
  };
}

/**
 * Settings every handle on an encrypted database gets: temporary files in
 * memory, and for a format with per-page data (authenticated) the reserved
 * bytes at the end of each page, before anything is written.
 */
export function prepareEncryptedHandle(sqlite: Sqlite, db: number, cipher: DatabaseCipher): void {
  sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode("PRAGMA temp_store=MEMORY"), 0, 0, 0));
  if (cipher.reserveBytes === 0) return;
  const arg = sqlite.malloc(8);
  try {
    sqlite.i32[arg >> 2] = cipher.reserveBytes;
    const main = sqlite.encodeOwned("main");
    try {
      sqlite.check(db, sqlite.x.sqlite3_file_control(db, main, FCNTL_RESERVE_BYTES, arg));
    } finally {
      sqlite.x.sqlite3_free(main);
    }
  } finally {
    sqlite.x.sqlite3_free(arg);
  }
}

/** The error text for a PRAGMA an encrypted database refuses (`SQLITE_FCNTL_PRAGMA`'s azArg), or null. */
function refusedPragma(sqlite: Sqlite, azArg: number): string | null {
  const name = sqlite.cstr(sqlite.i32[(azArg >> 2) + 1] as number).toLowerCase();
  const valuePtr = sqlite.i32[(azArg >> 2) + 2] as number;
  if (valuePtr === 0) return null;
  const value = sqlite.cstr(valuePtr).trim().toLowerCase();
  if (name === "journal_mode" && value === "wal") {
    return "an encrypted database cannot use journal_mode=WAL (its WAL frames would not match native libSQL's); use DELETE, TRUNCATE or PERSIST";
  }
  if (name === "temp_store" && value !== "2" && value !== "memory") {
    return "an encrypted database keeps temporary files in memory: temp_store must stay MEMORY";
  }
  return null;
}

/** The size `PRAGMA page_size=N` asks for (`SQLITE_FCNTL_PRAGMA`'s azArg), or 0. */
function pragmaPageSize(sqlite: Sqlite, azArg: number): number {
  if (sqlite.cstr(sqlite.i32[(azArg >> 2) + 1] as number).toLowerCase() !== "page_size") return 0;
  const value = sqlite.i32[(azArg >> 2) + 2] as number;
  const size = value === 0 ? 0 : Number(sqlite.cstr(value).trim());
  return isPageSize(size) ? size : 0;
}

function isPageSize(n: number): boolean {
  return n >= 512 && n <= MAX_PAGE && (n & (n - 1)) === 0;
}

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
