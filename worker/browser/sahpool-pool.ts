import { LibsqlError } from "../../src/errors.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import { installLockTrackingVfs } from "../vfs/lock-tracking-vfs.js";
import { RawOpen, RawVfs } from "../vfs/raw-vfs-file.js";
import type { WrappingVfs } from "../vfs/wrapping-vfs.js";
import { errorName, storageBusy, storageUnavailable } from "./storage-errors.js";
import { acquireLock, type HeldLock } from "./web-lock.js";

/** OPFS directory holding one pool directory per database. */
const ROOT = [".libsql-web", "sahpool"];
/** The pool's own folder of slot files (named by the sahpool VFS). */
const OPAQUE = ".opaque";
/** A folder inside `.opaque` holding the anchor file; the pool only adopts files, so it ignores it. */
const KEEP = ".libsql-web-keep";
/** Name of the database inside its pool (each database has a pool of its own). */
export const POOL_DATABASE = "/database.db";
const POOL_JOURNAL = `${POOL_DATABASE}-journal`;
/** Slots: the database, its journal, a super-journal and one spare (temporary files stay in memory). */
const CAPACITY = 4;
/** How long to keep retrying while a worker that just ended still holds the pool's access handles. */
const HANDOVER_MS = 3000;

let vfsCounter = 0;

/** The part of sahpool's utility object used here. */
interface SahPoolUtil {
  reserveMinimumCapacity(min: number): Promise<number>;
  importDb(name: string, bytes: Uint8Array): number;
  unlink(name: string): boolean;
  removeVfs(): Promise<boolean>;
}

interface SahPoolInstaller {
  installOpfsSAHPoolVfs(options: {
    name: string;
    directory: string;
    initialCapacity: number;
    clearOnInit: boolean;
    verbosity: number;
  }): Promise<SahPoolUtil | Error>;
  config: { error: (...args: unknown[]) => void };
}

/**
 * The `opfs-sahpool` pool of one database, owned by this worker. Each
 * database gets its own pool directory, so that tabs can use different
 * databases at the same time; one pool belongs to one worker at a time.
 *
 * Ownership is a Web Lock per pool, taken before installing: in SQLite 3.45.1
 * a failed `installOpfsSAHPoolVfs()` (e.g. because another tab holds the
 * access handles) resolves with the Error, and its clean-up removes the whole
 * pool folder, databases included. As a second guard, the owner keeps a
 * synchronous access handle open on an anchor file inside the pool's folder:
 * OPFS refuses to remove a folder while a file in it is open, so that clean-up
 * (by anyone) cannot delete the pool while an owner lives. The same refusal
 * lets `release()` use `removeVfs()` to give the handles up and keep the files.
 *
 * The pool's VFS is wrapped by a lock-tracking VFS (see `installLockTrackingVfs`).
 */
export class SahPool {
  /** The VFS to open the database with. */
  readonly vfsName: string;
  readonly #sqlite: Sqlite;
  readonly #lock: HeldLock;
  readonly #anchor: FileSystemSyncAccessHandle;
  readonly #util: SahPoolUtil;
  readonly #vfs: WrappingVfs;

  private constructor(
    sqlite: Sqlite,
    lock: HeldLock,
    anchor: FileSystemSyncAccessHandle,
    util: SahPoolUtil,
    vfs: WrappingVfs,
  ) {
    this.#sqlite = sqlite;
    this.#lock = lock;
    this.#anchor = anchor;
    this.#util = util;
    this.#vfs = vfs;
    this.vfsName = vfs.name;
  }

  /** Takes the pool of database `path` (a normalised name), waiting up to `timeoutMs` for another owner. */
  static async acquire(sqlite: Sqlite, path: string, timeoutMs: number): Promise<SahPool> {
    const lock = await acquireLock(poolLockName(path), { timeoutMs });
    if (!lock) throw busy(path);
    let anchor: FileSystemSyncAccessHandle | undefined;
    try {
      const deadline = Date.now() + HANDOVER_MS;
      anchor = await whileHeld(path, deadline, () => openAnchor(path));
      const installed = await whileHeld(path, deadline, () => install(sqlite, path));
      const vfs = installLockTrackingVfs(sqlite, { name: `${installed.name}-locks`, base: installed.name });
      return new SahPool(sqlite, lock, anchor, installed.util, vfs);
    } catch (error) {
      anchor?.close();
      lock.release();
      if (error instanceof LibsqlError) throw error;
      throw storageUnavailable(`could not open the OPFS pool of "${path}": ${message(error)}`, error);
    }
  }

  /** Deletes the pool of database `path` with everything in it, if nobody owns it. */
  static async delete(path: string, timeoutMs: number): Promise<void> {
    const lock = await acquireLock(poolLockName(path), { timeoutMs });
    if (!lock) throw busy(path);
    try {
      let root: FileSystemDirectoryHandle;
      try {
        root = await directory(ROOT, false);
      } catch (error) {
        if (errorName(error) === "NotFoundError") return;
        throw error;
      }
      await whileHeld(path, Date.now() + HANDOVER_MS, async () => {
        try {
          await root.removeEntry(encodeURIComponent(path), { recursive: true });
        } catch (error) {
          if (errorName(error) !== "NotFoundError") throw error;
        }
      });
    } catch (error) {
      if (error instanceof LibsqlError) throw error;
      throw storageUnavailable(`could not delete the OPFS pool of "${path}": ${message(error)}`, error);
    } finally {
      lock.release();
    }
  }

  /** Replaces the database's file with `bytes` (checked beforehand); the database must not be open. */
  importDatabase(bytes: Uint8Array): void {
    // Journal first: a stale hot journal would be played back into the new database.
    this.#util.unlink(POOL_JOURNAL);
    this.#util.unlink(POOL_DATABASE);
    this.#util.importDb(POOL_DATABASE, bytes);
  }

  /**
   * Replaces the database's file with `bytes` as they are: an encrypted
   * file, which `importDb()` refuses (it wants the plain header, and rewrites
   * bytes 18..19, which the encrypted formats keep clear and check).
   */
  importRawDatabase(bytes: Uint8Array): void {
    const raw = new RawVfs(this.#sqlite, this.vfsName);
    raw.delete(POOL_JOURNAL);
    raw.delete(POOL_DATABASE);
    const file = raw.open(POOL_DATABASE, RawOpen.READWRITE | RawOpen.CREATE | RawOpen.MAIN_DB);
    try {
      file.write(0, bytes);
      file.truncate(bytes.length);
      file.sync();
    } finally {
      file.close();
    }
  }

  /** Makes room for at least `files` files in the pool (a key change needs a new file and a commit record beside the database). */
  async reserve(files: number): Promise<void> {
    await this.#util.reserveMinimumCapacity(files);
  }

  /** Unregisters the VFS and closes the pool's handles, keeping its files; then gives up ownership. */
  async release(): Promise<void> {
    this.#vfs.dispose();
    const { config } = this.#sqlite.module as unknown as SahPoolInstaller;
    const log = config.error;
    // removeVfs() closes the handles, then tries to remove the pool folder; the anchor makes that
    // fail (as intended) and it logs the failure. Keep that expected message out of the console.
    config.error = () => {};
    try {
      await this.#util.removeVfs();
    } finally {
      config.error = log;
      this.#anchor.close();
      this.#lock.release();
    }
  }
}

function poolLockName(path: string): string {
  return `libsql-web:sahpool:${path}`;
}

function busy(path: string): LibsqlError {
  return storageBusy(
    `the database "${path}" is in use by another tab or worker (an opfs-sahpool database belongs to one at a time)`,
  );
}

function message(error: unknown): string {
  return (error as Error | null)?.message ?? String(error);
}

async function directory(names: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const name of names) dir = await dir.getDirectoryHandle(name, { create });
  return dir;
}

async function openAnchor(path: string): Promise<FileSystemSyncAccessHandle> {
  const keep = await directory([...ROOT, encodeURIComponent(path), OPAQUE, KEEP], true);
  const file = await keep.getFileHandle("anchor", { create: true });
  return file.createSyncAccessHandle();
}

async function install(sqlite: Sqlite, path: string): Promise<{ name: string; util: SahPoolUtil }> {
  // A failed install leaves its name cached as failed (3.45.1), so every attempt gets a new one.
  const name = `libsql-web-sahpool-${++vfsCounter}`;
  const util = await (sqlite.module as unknown as SahPoolInstaller).installOpfsSAHPoolVfs({
    name,
    directory: `/${[...ROOT, encodeURIComponent(path)].join("/")}`,
    initialCapacity: CAPACITY,
    clearOnInit: false,
    verbosity: 0,
  });
  // 3.45.1 resolves with the Error instead of rejecting.
  if (util instanceof Error) throw util;
  await util.reserveMinimumCapacity(CAPACITY);
  return { name, util };
}

/**
 * Retries `operation` while OPFS says a file is still open elsewhere (a
 * worker that just ended releases its access handles a moment after its
 * locks), until `deadline`; then the database is busy.
 */
async function whileHeld<T>(path: string, deadline: number, operation: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (errorName(error) !== "NoModificationAllowedError") throw error;
      if (Date.now() >= deadline) throw storageBusy(`the files of "${path}" stay open elsewhere`, error);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
