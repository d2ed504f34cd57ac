import { randomBytes, randomFillSync } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { Sqlite } from "../sqlite/sqlite.js";
import { FileLock, type LockHolder, LockLevel } from "./file-lock.js";
import { fsyncDirectory } from "./fsync-directory.js";
import { sleepSync } from "./sleep-sync.js";

/** Name the VFS is registered under in each wasm module. */
export const NODE_FILE_VFS = "libsql-web-node-file";

const RC = {
  OK: 0,
  BUSY: 5,
  NOTFOUND: 12,
  FULL: 13,
  CANTOPEN: 14,
  IOERR_READ: 266,
  IOERR_SHORT_READ: 522,
  IOERR_WRITE: 778,
  IOERR_FSYNC: 1034,
  IOERR_DIR_FSYNC: 1290,
  IOERR_TRUNCATE: 1546,
  IOERR_FSTAT: 1802,
  IOERR_UNLOCK: 2058,
  IOERR_DELETE: 2570,
  IOERR_CHECKRESERVEDLOCK: 3594,
  IOERR_LOCK: 3850,
  IOERR_CLOSE: 4106,
  IOERR_DELETE_NOENT: 5898,
} as const;

const OPEN = {
  READWRITE: 0x2,
  CREATE: 0x4,
  DELETEONCLOSE: 0x8,
  EXCLUSIVE: 0x10,
  MAIN_DB: 0x100,
  MAIN_JOURNAL: 0x800,
  SUPER_JOURNAL: 0x4000,
  WAL: 0x80000,
} as const;

const ACCESS_EXISTS = 0;
const ACCESS_READWRITE = 1;
const SYNC_DATAONLY = 0x10;
const IOCAP_POWERSAFE_OVERWRITE = 0x1000;
const SECTOR_SIZE = 4096;
const MAX_PATHNAME = 1024;
/** Julian day of the Unix epoch, in milliseconds (SQLite's `xCurrentTimeInt64` unit). */
const UNIX_EPOCH_JULIAN_MS = 210_866_760_000_000;

/** The parts of the sqlite3 JS API (struct binder, `installVfs`) this VFS needs; the package's typings miss them. */
interface Struct {
  readonly pointer: number;
  [member: `$${string}`]: number;
}
type Method = (...args: never[]) => unknown;
interface VfsJsApi {
  capi: {
    sqlite3_vfs: new () => Struct;
    sqlite3_io_methods: new () => Struct;
    sqlite3_file: { structInfo: { sizeof: number } };
  };
  vfs: {
    installVfs(options: {
      io: { struct: Struct; methods: Record<string, Method> };
      vfs: { struct: Struct; methods: Record<string, Method>; name: string };
    }): unknown;
  };
}

/** One open file: a database, a journal or a temporary file. */
class NodeFile implements LockHolder {
  level: number = LockLevel.NONE;
  readonly fd: number;
  readonly path: string;
  /** Set for main database files only: SQLite locks nothing else. */
  readonly lock: FileLock | null;
  /** A delete-on-close file the OS would not unlink while open (Windows). */
  unlinkOnClose = false;
  /** A newly created journal: fsync its directory at the first sync, so the journal's name is durable too. */
  syncDirOnSync = false;

  constructor(fd: number, path: string, lock: FileLock | null) {
    this.fd = fd;
    this.path = path;
    this.lock = lock;
  }
}

const installed = new WeakMap<object, string>();
const encoder = new TextEncoder();

/**
 * Registers, once per wasm module, a VFS that keeps databases in real files
 * through `node:fs` (the wasm build's own file system lives in memory). Files
 * are read and written straight between the wasm heap and the descriptor.
 * Locking across processes is a `FileLock` (a `<db>.lock` dot file); see there
 * for what it protects against. Returns the VFS name to open databases with.
 */
export function installNodeFileVfs(sqlite: Sqlite): string {
  const done = installed.get(sqlite.module);
  if (done) return done;
  const api = sqlite.module as unknown as VfsJsApi;
  const files = new Map<number, NodeFile>();
  let lastError: NodeJS.ErrnoException | null = null;
  // The last xLock refused because of a handle in this realm: nothing changes while this thread sleeps.
  let busyHere = false;

  const fail = (error: unknown, rc: number): number => {
    lastError = error as NodeJS.ErrnoException;
    return rc;
  };
  const fileOf = (pFile: number): NodeFile => files.get(pFile) as NodeFile;
  const poke32 = (p: number, value: number): void => {
    sqlite.i32[p >> 2] = value;
  };

  const io = new api.capi.sqlite3_io_methods();
  io.$iVersion = 1;
  const ioMethods = {
    xClose(pFile: number): number {
      const file = fileOf(pFile);
      files.delete(pFile);
      try {
        file.lock?.unlock(file, LockLevel.NONE);
      } catch (error) {
        fail(error, RC.IOERR_UNLOCK);
      }
      file.lock?.detach();
      try {
        closeSync(file.fd);
        if (file.unlinkOnClose) unlinkSync(file.path);
        return RC.OK;
      } catch (error) {
        return fail(error, RC.IOERR_CLOSE);
      }
    },
    xRead(pFile: number, pDest: number, n: number, offset: bigint): number {
      const fd = fileOf(pFile).fd;
      try {
        // Taken per call: a heap growth since the last call replaces the buffer.
        const u8 = sqlite.u8;
        const at = Number(offset);
        let got = 0;
        while (got < n) {
          const k = readSync(fd, u8, pDest + got, n - got, at + got);
          if (k === 0) break;
          got += k;
        }
        if (got === n) return RC.OK;
        u8.fill(0, pDest + got, pDest + n);
        return RC.IOERR_SHORT_READ;
      } catch (error) {
        return fail(error, RC.IOERR_READ);
      }
    },
    xWrite(pFile: number, pSrc: number, n: number, offset: bigint): number {
      const fd = fileOf(pFile).fd;
      try {
        const u8 = sqlite.u8;
        const at = Number(offset);
        let put = 0;
        while (put < n) put += writeSync(fd, u8, pSrc + put, n - put, at + put);
        return RC.OK;
      } catch (error) {
        return fail(error, (error as NodeJS.ErrnoException).code === "ENOSPC" ? RC.FULL : RC.IOERR_WRITE);
      }
    },
    xTruncate(pFile: number, size: bigint): number {
      try {
        ftruncateSync(fileOf(pFile).fd, Number(size));
        return RC.OK;
      } catch (error) {
        return fail(error, RC.IOERR_TRUNCATE);
      }
    },
    xSync(pFile: number, flags: number): number {
      const file = fileOf(pFile);
      try {
        if (flags & SYNC_DATAONLY) fdatasyncSync(file.fd);
        else fsyncSync(file.fd);
      } catch (error) {
        return fail(error, RC.IOERR_FSYNC);
      }
      if (file.syncDirOnSync) {
        file.syncDirOnSync = false;
        try {
          fsyncDirectory(dirname(file.path));
        } catch (error) {
          return fail(error, RC.IOERR_DIR_FSYNC);
        }
      }
      return RC.OK;
    },
    xFileSize(pFile: number, pSize: number): number {
      try {
        writeI64(sqlite, pSize, fstatSync(fileOf(pFile).fd).size);
        return RC.OK;
      } catch (error) {
        return fail(error, RC.IOERR_FSTAT);
      }
    },
    xLock(pFile: number, level: number): number {
      const file = fileOf(pFile);
      // SQLite locks main database files only; temporary databases are private to their handle.
      if (!file.lock) return RC.OK;
      try {
        const outcome = file.lock.lock(file, level);
        busyHere = outcome === "busy-here";
        return outcome === "granted" ? RC.OK : RC.BUSY;
      } catch (error) {
        return fail(error, RC.IOERR_LOCK);
      }
    },
    xUnlock(pFile: number, level: number): number {
      const file = fileOf(pFile);
      if (!file.lock) return RC.OK;
      try {
        file.lock.unlock(file, level);
        return RC.OK;
      } catch (error) {
        return fail(error, RC.IOERR_UNLOCK);
      }
    },
    xCheckReservedLock(pFile: number, pOut: number): number {
      const file = fileOf(pFile);
      try {
        poke32(pOut, file.lock?.reservedByOther(file) ? 1 : 0);
        return RC.OK;
      } catch (error) {
        return fail(error, RC.IOERR_CHECKRESERVEDLOCK);
      }
    },
    xFileControl: (): number => RC.NOTFOUND,
    xSectorSize: (): number => SECTOR_SIZE,
    // As SQLite's unix VFS with its default `psow=1`: a write never damages bytes around it.
    xDeviceCharacteristics: (): number => IOCAP_POWERSAFE_OVERWRITE,
  };

  const vfs = new api.capi.sqlite3_vfs();
  vfs.$iVersion = 2;
  vfs.$szOsFile = api.capi.sqlite3_file.structInfo.sizeof;
  vfs.$mxPathname = MAX_PATHNAME;
  const vfsMethods = {
    xOpen(_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number {
      // SQLite calls xClose only on a file whose pMethods is set.
      poke32(pFile, 0);
      const named = zName !== 0 && sqlite.u8[zName] !== 0;
      const path = named ? sqlite.cstr(zName) : join(tmpdir(), `libsql-web-${randomBytes(8).toString("hex")}`);
      let mode = flags & OPEN.READWRITE ? constants.O_RDWR : constants.O_RDONLY;
      if (flags & OPEN.CREATE) mode |= constants.O_CREAT;
      if (flags & OPEN.EXCLUSIVE) mode |= constants.O_EXCL;
      let fd: number;
      try {
        fd = openSync(path, mode, 0o644);
      } catch (error) {
        return fail(error, RC.CANTOPEN);
      }
      // xFullPathname made the path canonical, so every process derives the same lock and journal names.
      const lock = flags & OPEN.MAIN_DB ? FileLock.attach(path) : null;
      const file = new NodeFile(fd, path, lock);
      if (flags & OPEN.DELETEONCLOSE) {
        // Unlinked at once where the OS allows it, so a crash leaves nothing behind.
        try {
          unlinkSync(path);
        } catch {
          file.unlinkOnClose = true;
        }
      }
      file.syncDirOnSync =
        (flags & OPEN.CREATE) !== 0 && (flags & (OPEN.MAIN_JOURNAL | OPEN.SUPER_JOURNAL | OPEN.WAL)) !== 0;
      files.set(pFile, file);
      poke32(pFile, io.pointer);
      if (pOutFlags) poke32(pOutFlags, flags);
      return RC.OK;
    },
    xDelete(_pVfs: number, zName: number, syncDir: number): number {
      const path = sqlite.cstr(zName);
      try {
        unlinkSync(path);
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        return fail(error, missing ? RC.IOERR_DELETE_NOENT : RC.IOERR_DELETE);
      }
      if (syncDir) {
        try {
          fsyncDirectory(dirname(path));
        } catch (error) {
          return fail(error, RC.IOERR_DIR_FSYNC);
        }
      }
      return RC.OK;
    },
    xAccess(_pVfs: number, zName: number, flags: number, pOut: number): number {
      const path = sqlite.cstr(zName);
      let yes = false;
      try {
        if (flags === ACCESS_EXISTS) {
          // As SQLite's unix VFS: an empty file counts as absent, so an empty journal is never "hot".
          const stat = statSync(path, { throwIfNoEntry: false });
          yes = stat !== undefined && (!stat.isFile() || stat.size > 0);
        } else {
          accessSync(path, flags === ACCESS_READWRITE ? constants.R_OK | constants.W_OK : constants.R_OK);
          yes = true;
        }
      } catch {
        yes = false;
      }
      poke32(pOut, yes ? 1 : 0);
      return RC.OK;
    },
    xFullPathname(_pVfs: number, zName: number, nOut: number, zOut: number): number {
      const bytes = encoder.encode(canonicalPath(sqlite.cstr(zName)));
      if (bytes.length >= nOut) return RC.CANTOPEN;
      const u8 = sqlite.u8;
      u8.set(bytes, zOut);
      u8[zOut + bytes.length] = 0;
      return RC.OK;
    },
    xRandomness(_pVfs: number, n: number, pOut: number): number {
      randomFillSync(sqlite.u8, pOut, n);
      return n;
    },
    xSleep(_pVfs: number, microseconds: number): number {
      // Waiting only helps when the lock's holder is another thread or process.
      if (!busyHere) sleepSync(Math.ceil(microseconds / 1000));
      return microseconds;
    },
    xCurrentTime(_pVfs: number, pOut: number): number {
      new DataView(sqlite.u8.buffer).setFloat64(pOut, 2440587.5 + Date.now() / 86_400_000, true);
      return RC.OK;
    },
    xCurrentTimeInt64(_pVfs: number, pOut: number): number {
      writeI64(sqlite, pOut, UNIX_EPOCH_JULIAN_MS + Date.now());
      return RC.OK;
    },
    xGetLastError(_pVfs: number, nBuf: number, zBuf: number): number {
      const error = lastError;
      if (error === null) return 0;
      if (nBuf > 0) {
        const u8 = sqlite.u8;
        const { written } = encoder.encodeInto(error.message, u8.subarray(zBuf, zBuf + nBuf - 1));
        u8[zBuf + written] = 0;
      }
      return Math.abs(error.errno ?? 0);
    },
  };

  api.vfs.installVfs({
    io: { struct: io, methods: ioMethods },
    vfs: { struct: vfs, methods: vfsMethods, name: NODE_FILE_VFS },
  });
  installed.set(sqlite.module, NODE_FILE_VFS);
  return NODE_FILE_VFS;
}

/**
 * The absolute path with symbolic links resolved (as SQLite's unix VFS does),
 * so that a database reached through a link and through its real name shares
 * one journal and one lock file. A file not created yet resolves through its
 * directory.
 */
function canonicalPath(name: string): string {
  const full = resolve(name);
  try {
    return realpathSync(full);
  } catch {
    try {
      return join(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/** Writes a non-negative integer below 2^53 as a little-endian `sqlite3_int64` at `p`. */
function writeI64(sqlite: Sqlite, p: number, value: number): void {
  const i32 = sqlite.i32;
  i32[p >> 2] = value % 0x1_0000_0000;
  i32[(p >> 2) + 1] = Math.floor(value / 0x1_0000_0000);
}
