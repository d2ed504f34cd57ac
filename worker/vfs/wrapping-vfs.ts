import type { Sqlite } from "../sqlite/sqlite.js";

const SQLITE_OK = 0;
const SQLITE_IOERR = 10;
const SQLITE_CANTOPEN = 14;

/** The wrapped VFS's methods for one open file (the `sqlite3_file*` is bound). */
export interface BaseFile {
  xRead(pDest: number, n: number, offset: bigint): number;
  xWrite(pSrc: number, n: number, offset: bigint): number;
  xTruncate(size: bigint): number;
  xLock(level: number): number;
  xUnlock(level: number): number;
  xCheckReservedLock(pOut: number): number;
  xFileControl(op: number, pArg: number): number;
}

/** A file opened through a wrapping VFS. */
export interface WrappedFile<S> {
  /** The `sqlite3_file*`, shared with the wrapped VFS. */
  readonly pFile: number;
  /** The name SQLite opened (a full path for databases and journals), `""` for a temporary file. */
  readonly name: string;
  /** The `SQLITE_OPEN_*` flags SQLite passed to `xOpen`. */
  readonly flags: number;
  /** The wrapped VFS's methods for this file. */
  readonly base: BaseFile;
  /** Whatever the hooks keep per file (see `VfsHooks.open`). */
  readonly state: S;
}

/**
 * What a wrapping VFS changes. Every hook gets the file and the method's
 * arguments and returns an SQLite result code; it calls `file.base` to reach
 * the wrapped VFS. Methods without a hook go straight to the wrapped VFS's C
 * entry points, so they cost nothing. A hook that throws returns
 * `SQLITE_IOERR` to SQLite (an exception must never unwind through the C stack).
 */
export interface VfsHooks<S> {
  /** Called after the wrapped VFS opened a file; returns the file's state. */
  open(file: Omit<WrappedFile<S>, "state">): S;
  /** Called before the wrapped VFS closes the file. */
  close?(file: WrappedFile<S>): void;
  xRead?(file: WrappedFile<S>, pDest: number, n: number, offset: bigint): number;
  xWrite?(file: WrappedFile<S>, pSrc: number, n: number, offset: bigint): number;
  xTruncate?(file: WrappedFile<S>, size: bigint): number;
  xLock?(file: WrappedFile<S>, level: number): number;
  xUnlock?(file: WrappedFile<S>, level: number): number;
  xCheckReservedLock?(file: WrappedFile<S>, pOut: number): number;
  xFileControl?(file: WrappedFile<S>, op: number, pArg: number): number;
}

/** A registered wrapping VFS. */
export interface WrappingVfs {
  /** The name to open databases with (`sqlite3_open_v2`'s zVfs). */
  readonly name: string;
  /** Number of files open through it. */
  readonly openFiles: number;
  /** Unregisters the VFS and frees what it allocated; every file must be closed. */
  dispose(): void;
}

/** Options of `installWrappingVfs`. */
export interface WrappingVfsOptions<S> {
  /** Name to register the new VFS under; must not be taken. */
  name: string;
  /** Name of the registered VFS to forward to. */
  base: string;
  hooks: VfsHooks<S>;
}

type HookName = Exclude<keyof VfsHooks<unknown>, "open" | "close">;
type WasmFn = (...args: (number | bigint)[]) => number;

interface StructInfo {
  sizeof: number;
  members: Record<string, { offset: number; signature: string }>;
}

/** The parts of the sqlite3 JS API used here; the package's typings describe them loosely. */
interface VfsJsApi {
  capi: {
    sqlite3_vfs: { structInfo: StructInfo };
    sqlite3_io_methods: { structInfo: StructInfo };
    sqlite3_vfs_find(name: string | null): number;
    sqlite3_vfs_register(pVfs: number, makeDefault: number): number;
    sqlite3_vfs_unregister(pVfs: number): number;
  };
  wasm: {
    functionEntry(ptr: number): WasmFn | undefined;
    installFunction(signature: string, fn: (...args: never[]) => unknown): number;
    uninstallFunction(ptr: number): unknown;
  };
}

const HOOKABLE: readonly HookName[] = [
  "xRead",
  "xWrite",
  "xTruncate",
  "xLock",
  "xUnlock",
  "xCheckReservedLock",
  "xFileControl",
];

/** VFS methods forwarded with the wrapped VFS's own `sqlite3_vfs*` (its methods look their state up by it). */
const FORWARDED_VFS_METHODS = [
  "xDelete",
  "xAccess",
  "xFullPathname",
  "xRandomness",
  "xSleep",
  "xCurrentTime",
  "xGetLastError",
  "xCurrentTimeInt64",
] as const;

/**
 * Registers a VFS that forwards to another VFS, with hooks on some file
 * methods. The wrapper shares the wrapped VFS's `sqlite3_file` (same size, same
 * pointer): after the wrapped `xOpen` it swaps the file's `pMethods` for a
 * copy of the wrapped methods in which only the hooked entries (and `xClose`)
 * are JavaScript. Lock tracking and page encryption are built on it.
 *
 * Memory-mapped reads (`xFetch`) are dropped when reads or writes are hooked,
 * so every page goes through the hooks.
 */
export function installWrappingVfs<S>(sqlite: Sqlite, options: WrappingVfsOptions<S>): WrappingVfs {
  const api = sqlite.module as unknown as VfsJsApi;
  const { capi, wasm } = api;
  const vfsInfo = capi.sqlite3_vfs.structInfo;
  const ioInfo = capi.sqlite3_io_methods.structInfo;
  const { hooks } = options;
  if (capi.sqlite3_vfs_find(options.name)) throw new Error(`a VFS named ${options.name} is already registered`);
  const basePtr = capi.sqlite3_vfs_find(options.base);
  if (!basePtr) throw new Error(`no VFS named ${options.base} is registered`);

  const installed: number[] = [];
  const allocated: number[] = [];
  const files = new Map<number, WrappedFile<S>>();
  const ioByBase = new Map<number, { ours: number; base: Record<string, WasmFn> }>();
  const heap32 = (ptr: number, value?: number): number => {
    if (value !== undefined) sqlite.i32[ptr >> 2] = value;
    return sqlite.i32[ptr >> 2] as number;
  };
  const field = (info: StructInfo, struct: number, name: string): number =>
    heap32(struct + (info.members[name] as { offset: number }).offset);
  const setField = (info: StructInfo, struct: number, name: string, value: number): void => {
    heap32(struct + (info.members[name] as { offset: number }).offset, value);
  };
  const signature = (info: StructInfo, name: string): string => {
    // The struct binder writes "i(pppip)"; installFunction wants "ipppip".
    return (info.members[name] as { signature: string }).signature.replace(/[()]/g, "");
  };
  const install = (sig: string, fn: (...args: never[]) => unknown): number => {
    const ptr = wasm.installFunction(sig, fn);
    installed.push(ptr);
    return ptr;
  };
  const entry = (ptr: number): WasmFn => {
    const fn = wasm.functionEntry(ptr);
    if (!fn) throw new Error(`no wasm function at ${ptr}`);
    return fn;
  };
  const alloc = (size: number): number => {
    const p = sqlite.malloc(size);
    sqlite.u8.fill(0, p, p + size);
    allocated.push(p);
    return p;
  };

  const hooksReadsOrWrites = hooks.xRead !== undefined || hooks.xWrite !== undefined;

  /** Our io methods for files whose wrapped methods are at `baseIo` (built once per distinct table). */
  const ioMethodsFor = (baseIo: number): { ours: number; base: Record<string, WasmFn> } => {
    const known = ioByBase.get(baseIo);
    if (known) return known;
    const ours = alloc(ioInfo.sizeof);
    const base: Record<string, WasmFn> = {};
    const version = field(ioInfo, baseIo, "iVersion");
    setField(ioInfo, ours, "iVersion", hooksReadsOrWrites ? Math.min(version, 2) : version);
    for (const name of Object.keys(ioInfo.members)) {
      if (name === "iVersion") continue;
      const ptr = field(ioInfo, baseIo, name);
      setField(ioInfo, ours, name, ptr);
      if (ptr !== 0 && (name === "xClose" || HOOKABLE.includes(name as HookName))) base[name] = entry(ptr);
    }
    const baseClose = base.xClose as WasmFn;
    setField(
      ioInfo,
      ours,
      "xClose",
      install(signature(ioInfo, "xClose"), (pFile: number) => {
        const file = files.get(pFile);
        files.delete(pFile);
        try {
          if (file) hooks.close?.(file);
        } catch {
          // The file closes regardless; a hook must not keep it open.
        }
        try {
          return baseClose(pFile);
        } catch {
          return SQLITE_IOERR;
        }
      }),
    );
    for (const name of HOOKABLE) {
      const hook = hooks[name] as ((file: WrappedFile<S>, ...args: (number | bigint)[]) => number) | undefined;
      if (!hook || !base[name]) continue;
      setField(
        ioInfo,
        ours,
        name,
        install(signature(ioInfo, name), (pFile: number, ...args: (number | bigint)[]) => {
          try {
            return hook(files.get(pFile) as WrappedFile<S>, ...args);
          } catch {
            return SQLITE_IOERR;
          }
        }),
      );
    }
    if (hooksReadsOrWrites) {
      setField(ioInfo, ours, "xFetch", 0);
      setField(ioInfo, ours, "xUnfetch", 0);
    }
    const made = { ours, base };
    ioByBase.set(baseIo, made);
    return made;
  };

  const bind = (base: Record<string, WasmFn>, pFile: number): BaseFile => {
    const call =
      (name: string) =>
      (...args: (number | bigint)[]): number =>
        (base[name] as WasmFn)(pFile, ...args);
    return {
      xRead: call("xRead"),
      xWrite: call("xWrite"),
      xTruncate: call("xTruncate"),
      xLock: call("xLock"),
      xUnlock: call("xUnlock"),
      xCheckReservedLock: call("xCheckReservedLock"),
      xFileControl: call("xFileControl"),
    };
  };

  const vfs = alloc(vfsInfo.sizeof);
  const baseVersion = field(vfsInfo, basePtr, "iVersion");
  setField(vfsInfo, vfs, "iVersion", Math.min(baseVersion, 2));
  setField(vfsInfo, vfs, "szOsFile", field(vfsInfo, basePtr, "szOsFile"));
  setField(vfsInfo, vfs, "mxPathname", field(vfsInfo, basePtr, "mxPathname"));
  const zName = sqlite.encodeOwned(options.name);
  allocated.push(zName);
  setField(vfsInfo, vfs, "zName", zName);

  const baseOpen = entry(field(vfsInfo, basePtr, "xOpen"));
  setField(
    vfsInfo,
    vfs,
    "xOpen",
    install(signature(vfsInfo, "xOpen"), (_pVfs: number, zName: number, pFile: number, flags: number, pOut: number) => {
      let rc: number;
      try {
        rc = baseOpen(basePtr, zName, pFile, flags, pOut);
      } catch {
        return SQLITE_CANTOPEN;
      }
      const baseIo = heap32(pFile);
      if (baseIo === 0) return rc;
      try {
        const io = ioMethodsFor(baseIo);
        const opened = { pFile, name: zName ? sqlite.cstr(zName) : "", flags, base: bind(io.base, pFile) };
        files.set(pFile, { ...opened, state: hooks.open(opened) });
        heap32(pFile, io.ours);
        return rc;
      } catch {
        // Leave the wrapped methods in place: SQLite closes the file through them.
        return rc === SQLITE_OK ? SQLITE_CANTOPEN : rc;
      }
    }),
  );
  for (const name of FORWARDED_VFS_METHODS) {
    if (name === "xCurrentTimeInt64" && baseVersion < 2) continue;
    const ptr = field(vfsInfo, basePtr, name);
    if (ptr === 0) continue;
    const fn = entry(ptr);
    setField(
      vfsInfo,
      vfs,
      name,
      install(signature(vfsInfo, name), (_pVfs: number, ...args: (number | bigint)[]) => {
        try {
          return fn(basePtr, ...args);
        } catch {
          return SQLITE_IOERR;
        }
      }),
    );
  }

  const rc = capi.sqlite3_vfs_register(vfs, 0);
  if (rc !== SQLITE_OK) {
    release();
    throw new Error(`sqlite3_vfs_register(${options.name}) failed with ${rc}`);
  }

  function release(): void {
    for (const ptr of installed) wasm.uninstallFunction(ptr);
    for (const ptr of allocated) sqlite.x.sqlite3_free(ptr);
    installed.length = 0;
    allocated.length = 0;
  }

  let disposed = false;
  return {
    name: options.name,
    get openFiles() {
      return files.size;
    },
    dispose() {
      if (disposed) return;
      if (files.size > 0) throw new Error(`VFS ${options.name} still has ${files.size} open file(s)`);
      disposed = true;
      capi.sqlite3_vfs_unregister(vfs);
      release();
    },
  };
}
