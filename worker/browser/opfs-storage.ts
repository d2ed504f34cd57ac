import { LibsqlError } from "../../src/errors.js";
import { type DatabaseCipher, refuseEncryptedWithoutKey } from "../crypto/database-cipher.js";
import { recoverRekey, rekeyDatabaseFile } from "../crypto/rekey-database-file.js";
import { openHandle } from "../sqlite/open-handle.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import type { StorageBackend, StorageOptions } from "../storage/storage-backend.js";
import { installEncryptingVfs, prepareEncryptedHandle } from "../vfs/encrypting-vfs.js";
import { installLockTrackingVfs } from "../vfs/lock-tracking-vfs.js";
import { RawVfs } from "../vfs/raw-vfs-file.js";
import type { WrappingVfs } from "../vfs/wrapping-vfs.js";
import { normaliseOpfsPath, parentDirectory } from "./opfs-path.js";
import { PathQueue } from "./path-queue.js";
import { errorName, requireOpfs, storageBusy, storageUnavailable } from "./storage-errors.js";
import { acquireLock, type HeldLock } from "./web-lock.js";

const DEFAULT_TIMEOUT_MS = 5000;
const VFS_NAME = "libsql-web-opfs";
/** Files beside a database that go when it is replaced or deleted: its journal, and a cut-short key change's. */
const REPLACED_WITH_THE_DATABASE = ["-journal", "-rekey-commit", "-rekey-journal", "-rekey"];

/**
 * Databases on SQLite's `opfs` VFS: plain files at their path in the Origin
 * Private File System, usable from several tabs at once (the VFS locks the
 * file per transaction), at a cost of a few ms per transaction. The VFS needs
 * `SharedArrayBuffer`, so the page must be cross-origin isolated (COOP
 * `same-origin` and COEP `require-corp`); otherwise opening fails with
 * `STORAGE_UNAVAILABLE`.
 *
 * Every worker with the database open holds a shared Web Lock on its name;
 * import, delete and key changes take it exclusively, so they are refused
 * while any tab has the database open. An encrypted database opens through an
 * encrypting VFS over the lock-tracking one.
 */
export class OpfsStorage implements StorageBackend {
  #vfs: WrappingVfs | undefined;
  #encryptingCounter = 0;
  readonly #locks = new Map<string, HeldLock>();
  readonly #encrypting = new Map<string, WrappingVfs>();
  readonly #queue = new PathQueue();

  key(path: string): string {
    return normaliseOpfsPath(path);
  }

  open(sqlite: Sqlite, path: string, options?: StorageOptions): Promise<number> {
    const name = normaliseOpfsPath(path);
    return this.#queue.run(name, async () => {
      requireOpfs("opfs");
      if (!(sqlite.module.capi as unknown as { sqlite3_vfs_find(name: string): number }).sqlite3_vfs_find("opfs")) {
        throw storageUnavailable(
          globalThis.crossOriginIsolated
            ? 'the "opfs" VFS could not start in this worker'
            : 'storage "opfs" needs a cross-origin isolated page (headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); "opfs-sahpool" works without them',
        );
      }
      const base = this.#baseVfs(sqlite);
      await this.#recover(sqlite, name, options);
      const lock = await acquireLock(lockName(name), { mode: "shared", timeoutMs: timeout(options) });
      if (!lock) throw storageBusy(`the database "${name}" is being imported, deleted or re-encrypted`);
      const cipher = options?.encryption;
      let encrypting: WrappingVfs | undefined;
      try {
        if (cipher) {
          encrypting = installEncryptingVfs(sqlite, {
            name: `${VFS_NAME}-encrypted-${++this.#encryptingCounter}`,
            base,
            cipher,
          });
        } else {
          const head = new RawVfs(sqlite, base).head(`/${name}`);
          if (head) refuseEncryptedWithoutKey(head);
        }
        sqlite.clearVfsError();
        const db = openHandle(sqlite, `/${name}`, encrypting?.name ?? base);
        try {
          exec(sqlite, db, "PRAGMA page_size=4096");
          if (cipher) prepareEncryptedHandle(sqlite, db, cipher);
          sqlite.x.sqlite3_busy_timeout(db, Math.max(0, timeout(options)));
        } catch (error) {
          sqlite.x.sqlite3_close_v2(db);
          throw error;
        }
        this.#locks.set(name, lock);
        if (encrypting) this.#encrypting.set(name, encrypting);
        return db;
      } catch (error) {
        encrypting?.dispose();
        lock.release();
        throw error;
      }
    });
  }

  /** The lock-tracking VFS over `opfs`, registered once. */
  #baseVfs(sqlite: Sqlite): string {
    this.#vfs ??= installLockTrackingVfs(sqlite, { name: VFS_NAME, base: "opfs" });
    return this.#vfs.name;
  }

  /** Finishes or discards a key change a crash cut short, holding the database exclusively (nobody has it open). */
  async #recover(sqlite: Sqlite, name: string, options: StorageOptions | undefined): Promise<void> {
    const raw = new RawVfs(sqlite, this.#baseVfs(sqlite));
    if (!raw.present(`/${name}-rekey`) && !raw.present(`/${name}-rekey-commit`)) return;
    const lock = await acquireLock(lockName(name), { timeoutMs: timeout(options) });
    if (!lock) throw storageBusy(`the database "${name}" is open in another tab or worker`);
    try {
      await recoverRekey(sqlite, { base: raw.name, file: `/${name}`, lock: false, busyTimeoutMs: 0 });
    } finally {
      lock.release();
    }
  }

  release(path: string): Promise<void> {
    const name = normaliseOpfsPath(path);
    return this.#queue.run(name, async () => {
      this.#encrypting.get(name)?.dispose();
      this.#encrypting.delete(name);
      this.#locks.get(name)?.release();
      this.#locks.delete(name);
    });
  }

  importDatabase(_sqlite: Sqlite, path: string, bytes: Uint8Array, options?: StorageOptions): Promise<void> {
    return this.#exclusive(path, options, async (name) => {
      const { dir, name: file } = await parentDirectory(name, true);
      // Journal first: a stale hot journal would be played back into the new database; and what a key
      // change cut short left, which would otherwise be finished over the imported file at the next open.
      for (const suffix of REPLACED_WITH_THE_DATABASE) await removeIfPresent(dir, `${file}${suffix}`);
      const access = await (await dir.getFileHandle(file, { create: true })).createSyncAccessHandle();
      try {
        access.truncate(0);
        access.write(bytes, { at: 0 });
        // This VFS has no shared memory, so no WAL: mark the file as a rollback-journal database
        // (encrypted bytes come ready: their page 1 is re-encrypted for that before).
        if (!options?.encryption) access.write(new Uint8Array([1, 1]), { at: 18 });
        access.flush();
      } finally {
        access.close();
      }
    });
  }

  rekeyDatabase(sqlite: Sqlite, path: string, to: DatabaseCipher | null, options?: StorageOptions): Promise<void> {
    return this.#exclusive(path, options, async (name) => {
      const base = this.#baseVfs(sqlite);
      const from = options?.encryption ?? null;
      const head = new RawVfs(sqlite, base).head(`/${name}`);
      if (head === null) {
        throw new LibsqlError(`there is no database "${name}" to re-encrypt`, "SQLITE_CANTOPEN");
      }
      if (!from) refuseEncryptedWithoutKey(head);
      await rekeyDatabaseFile(sqlite, { base, file: `/${name}`, lock: false, busyTimeoutMs: 0 }, { from, to });
    });
  }

  deleteDatabase(_sqlite: Sqlite, path: string, options?: StorageOptions): Promise<void> {
    return this.#exclusive(path, options, async (name) => {
      let parent: { dir: FileSystemDirectoryHandle; name: string };
      try {
        parent = await parentDirectory(name, false);
      } catch (error) {
        if (errorName(error) === "NotFoundError") return;
        throw error;
      }
      for (const suffix of REPLACED_WITH_THE_DATABASE) await removeIfPresent(parent.dir, `${parent.name}${suffix}`);
      await removeIfPresent(parent.dir, parent.name);
    });
  }

  /** Runs `operation` holding the database's lock exclusively: nobody has it open. */
  #exclusive(path: string, options: StorageOptions | undefined, operation: (name: string) => Promise<void>) {
    const name = normaliseOpfsPath(path);
    return this.#queue.run(name, async () => {
      requireOpfs("opfs");
      const lock = await acquireLock(lockName(name), { timeoutMs: timeout(options) });
      if (!lock) throw storageBusy(`the database "${name}" is open in another tab or worker`);
      try {
        await operation(name);
      } catch (error) {
        if (error instanceof LibsqlError) throw error;
        if (errorName(error) === "NoModificationAllowedError") {
          throw storageBusy(`the file of "${name}" is open elsewhere`, error);
        }
        throw storageUnavailable(`OPFS refused an operation on "${name}": ${(error as Error)?.message}`, error);
      } finally {
        lock.release();
      }
    });
  }
}

function lockName(path: string): string {
  return `libsql-web:opfs:${path}`;
}

function timeout(options: StorageOptions | undefined): number {
  return options?.busyTimeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function exec(sqlite: Sqlite, db: number, sql: string): void {
  sqlite.check(db, sqlite.x.sqlite3_exec(db, sqlite.encode(sql), 0, 0, 0));
}

async function removeIfPresent(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (error) {
    if (errorName(error) !== "NotFoundError") throw error;
  }
}
