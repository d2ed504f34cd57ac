import { LibsqlError } from "../../src/errors.js";
import type { Sqlite } from "../sqlite/sqlite.js";

const SQLITE_OK = 0;
const SQLITE_IOERR_SHORT_READ = 522;
const SQLITE_IOERR_DELETE_NOENT = 5898;
const ACCESS_EXISTS = 0;
const ACCESS_READWRITE = 1;
const SYNC_FULL = 0x3;

/** `SQLITE_OPEN_*` flags for raw files. */
export const RawOpen = {
  READWRITE: 0x2,
  CREATE: 0x4,
  MAIN_DB: 0x100,
  /** A file SQLite itself never opens: no locks, no journal of its own. */
  TRANSIENT_DB: 0x400,
} as const;

/** Bytes moved through the wasm heap per call. */
const CHUNK = 1 << 16;

type WasmFn = (...args: (number | bigint)[]) => number;

interface StructInfo {
  sizeof: number;
  members: Record<string, { offset: number }>;
}

interface VfsJsApi {
  capi: {
    sqlite3_vfs: { structInfo: StructInfo };
    sqlite3_io_methods: { structInfo: StructInfo };
    sqlite3_vfs_find(name: string): number;
  };
  wasm: { functionEntry(ptr: number): WasmFn | undefined };
}

/**
 * Files of a registered VFS reached from JavaScript, below SQLite: what an
 * encrypted database needs that SQLite cannot do for it (ciphertext in and
 * out as it is, the files of a key change). Every call is synchronous, as
 * VFS calls are; failures throw a `LibsqlError` with the VFS's result code.
 */
export class RawVfs {
  readonly #sqlite: Sqlite;
  readonly #vfs: number;
  readonly #vfsInfo: StructInfo;
  readonly #ioInfo: StructInfo;
  readonly #api: VfsJsApi;
  /** The VFS's name. */
  readonly name: string;

  constructor(sqlite: Sqlite, vfsName: string) {
    this.#sqlite = sqlite;
    this.#api = sqlite.module as unknown as VfsJsApi;
    this.#vfs = this.#api.capi.sqlite3_vfs_find(vfsName);
    if (!this.#vfs) throw new LibsqlError(`no VFS named ${vfsName} is registered`, "INTERNAL_ERROR");
    this.#vfsInfo = this.#api.capi.sqlite3_vfs.structInfo;
    this.#ioInfo = this.#api.capi.sqlite3_io_methods.structInfo;
    this.name = vfsName;
  }

  #method(info: StructInfo, struct: number, name: string): WasmFn {
    const ptr = this.#sqlite.i32[(struct + (info.members[name] as { offset: number }).offset) >> 2] as number;
    const fn = ptr === 0 ? undefined : this.#api.wasm.functionEntry(ptr);
    if (!fn) throw new LibsqlError(`VFS ${this.name} has no ${name}`, "INTERNAL_ERROR");
    return fn;
  }

  /** Calls `body` with `name` as a C string in memory of its own (VFSes may keep the pointer). */
  #withName<T>(name: string, body: (zName: number) => T): T {
    const zName = this.#sqlite.encodeOwned(name);
    try {
      return body(zName);
    } finally {
      this.#sqlite.x.sqlite3_free(zName);
    }
  }

  /** The VFS's canonical form of `name` (`xFullPathname`), as SQLite names the file it opens. */
  fullPathname(name: string): string {
    const size = 1025;
    const out = this.#sqlite.malloc(size);
    try {
      const rc = this.#withName(name, (zName) =>
        this.#method(this.#vfsInfo, this.#vfs, "xFullPathname")(this.#vfs, zName, size, out),
      );
      check(this.#sqlite, rc, "xFullPathname");
      return this.#sqlite.cstr(out);
    } finally {
      this.#sqlite.x.sqlite3_free(out);
    }
  }

  /** True when the file exists and is not empty (what SQLite asks before treating a journal as hot). */
  exists(name: string): boolean {
    const { out } = this.#sqlite;
    this.#sqlite.i32[out >> 2] = 0;
    const rc = this.#withName(name, (zName) =>
      this.#method(this.#vfsInfo, this.#vfs, "xAccess")(this.#vfs, zName, ACCESS_EXISTS, out),
    );
    check(this.#sqlite, rc, "xAccess");
    return this.#sqlite.i32[out >> 2] !== 0;
  }

  /** True when the file exists, even empty (`exists` calls an empty file absent, as SQLite's unix VFS does). */
  present(name: string): boolean {
    const { out } = this.#sqlite;
    this.#sqlite.i32[out >> 2] = 0;
    const rc = this.#withName(name, (zName) =>
      this.#method(this.#vfsInfo, this.#vfs, "xAccess")(this.#vfs, zName, ACCESS_READWRITE, out),
    );
    check(this.#sqlite, rc, "xAccess");
    return this.#sqlite.i32[out >> 2] !== 0;
  }

  /** Deletes the file; a missing one is fine. */
  delete(name: string): void {
    const rc = this.#withName(name, (zName) => this.#method(this.#vfsInfo, this.#vfs, "xDelete")(this.#vfs, zName, 1));
    // VFSes differ in what deleting a missing file answers (OK, IOERR_DELETE_NOENT, IOERR_DELETE).
    if (rc === SQLITE_OK || rc === SQLITE_IOERR_DELETE_NOENT || !this.exists(name)) return;
    check(this.#sqlite, rc, "xDelete");
  }

  /** The first `n` bytes of the file as stored, or null when it does not exist or is shorter. */
  head(name: string, n = 100): Uint8Array | null {
    if (!this.exists(name)) return null;
    const file = this.open(name, RawOpen.READWRITE);
    try {
      const bytes = new Uint8Array(n);
      return file.read(0, bytes) === n ? bytes : null;
    } finally {
      file.close();
    }
  }

  /** Opens `name` with `flags` (`RawOpen`); throws `SQLITE_CANTOPEN` when the VFS refuses. */
  open(name: string, flags: number): RawFile {
    const sqlite = this.#sqlite;
    const size = (sqlite.i32[(this.#vfs + (this.#vfsInfo.members.szOsFile as { offset: number }).offset) >> 2] ??
      0) as number;
    const pFile = sqlite.malloc(Math.max(size, 8) + 4);
    sqlite.u8.fill(0, pFile, pFile + Math.max(size, 8) + 4);
    const pOutFlags = pFile + Math.max(size, 8);
    // The name must stay valid until xClose: SQLite guarantees that to VFSes, and some keep the pointer.
    const zName = sqlite.encodeOwned(name);
    let rc: number;
    try {
      rc = this.#method(this.#vfsInfo, this.#vfs, "xOpen")(this.#vfs, zName, pFile, flags, pOutFlags);
    } catch {
      rc = 14;
    }
    const methods = sqlite.i32[pFile >> 2] as number;
    if (rc !== SQLITE_OK || methods === 0) {
      if (methods !== 0) {
        try {
          this.#method(this.#ioInfo, methods, "xClose")(pFile);
        } catch {
          // Already failing.
        }
      }
      sqlite.x.sqlite3_free(pFile);
      sqlite.x.sqlite3_free(zName);
      throw new LibsqlError(`could not open ${name} (${sqlite.codeName(rc || 14)})`, "SQLITE_CANTOPEN", undefined, rc);
    }
    const io = (member: string) => this.#method(this.#ioInfo, methods, member);
    return new RawFile(sqlite, pFile, zName, name, io);
  }
}

/** One file opened through `RawVfs.open`; close it. */
export class RawFile {
  readonly #sqlite: Sqlite;
  readonly #pFile: number;
  readonly #zName: number;
  readonly #io: (member: string) => WasmFn;
  #closed = false;
  /** The name it was opened with. */
  readonly name: string;

  constructor(sqlite: Sqlite, pFile: number, zName: number, name: string, io: (member: string) => WasmFn) {
    this.#sqlite = sqlite;
    this.#pFile = pFile;
    this.#zName = zName;
    this.#io = io;
    this.name = name;
  }

  /** The file's size in bytes. */
  size(): number {
    const { out } = this.#sqlite;
    check(this.#sqlite, this.#io("xFileSize")(this.#pFile, out), "xFileSize");
    const low = this.#sqlite.i32[out >> 2] as number;
    const high = this.#sqlite.i32[(out >> 2) + 1] as number;
    return high * 2 ** 32 + (low >>> 0);
  }

  /** Reads into `into` from `offset`; returns how many bytes the file had there (the rest is zeros). */
  read(offset: number, into: Uint8Array): number {
    const sqlite = this.#sqlite;
    const buffer = sqlite.malloc(Math.min(CHUNK, Math.max(into.length, 1)));
    try {
      let done = 0;
      while (done < into.length) {
        const n = Math.min(CHUNK, into.length - done);
        const rc = this.#io("xRead")(this.#pFile, buffer, n, BigInt(offset + done));
        if (rc !== SQLITE_OK && rc !== SQLITE_IOERR_SHORT_READ) check(sqlite, rc, "xRead");
        into.set(sqlite.u8.subarray(buffer, buffer + n), done);
        if (rc === SQLITE_IOERR_SHORT_READ) {
          into.fill(0, done + n);
          return Math.min(into.length, Math.max(0, this.size() - offset));
        }
        done += n;
      }
      return into.length;
    } finally {
      sqlite.x.sqlite3_free(buffer);
    }
  }

  /** Writes `bytes` at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    const sqlite = this.#sqlite;
    const buffer = sqlite.malloc(Math.min(CHUNK, Math.max(bytes.length, 1)));
    try {
      for (let done = 0; done < bytes.length; done += CHUNK) {
        const n = Math.min(CHUNK, bytes.length - done);
        sqlite.u8.set(bytes.subarray(done, done + n), buffer);
        check(sqlite, this.#io("xWrite")(this.#pFile, buffer, n, BigInt(offset + done)), "xWrite");
      }
    } finally {
      sqlite.x.sqlite3_free(buffer);
    }
  }

  /** Copies `length` bytes of `from` (from offset 0) to this file at offset 0. */
  copyFrom(from: RawFile, length: number): void {
    const chunk = new Uint8Array(CHUNK);
    for (let done = 0; done < length; done += CHUNK) {
      const part = chunk.subarray(0, Math.min(CHUNK, length - done));
      from.read(done, part);
      this.write(done, part);
    }
  }

  /** Sets the file's length. */
  truncate(size: number): void {
    check(this.#sqlite, this.#io("xTruncate")(this.#pFile, BigInt(size)), "xTruncate");
  }

  /** Makes what was written durable. */
  sync(): void {
    check(this.#sqlite, this.#io("xSync")(this.#pFile, SYNC_FULL), "xSync");
  }

  /** Takes SQLite lock `level`; returns the VFS's result code (`SQLITE_BUSY` when another holds it). */
  lock(level: number): number {
    return this.#io("xLock")(this.#pFile, level);
  }

  /** Lowers the lock to `level`. */
  unlock(level: number): void {
    this.#io("xUnlock")(this.#pFile, level);
  }

  /** Closes the file (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      check(this.#sqlite, this.#io("xClose")(this.#pFile), "xClose");
    } finally {
      this.#sqlite.x.sqlite3_free(this.#pFile);
      this.#sqlite.x.sqlite3_free(this.#zName);
    }
  }
}

function check(sqlite: Sqlite, rc: number, what: string): void {
  if (rc === SQLITE_OK) return;
  const extended = sqlite.codeName(rc);
  throw new LibsqlError(`${what} failed (${extended})`, sqlite.codeName(rc & 0xff), extended, rc);
}
