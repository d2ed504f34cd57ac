import { DotLock } from "./dot-lock.js";

/** SQLite's lock levels (`SQLITE_LOCK_*`). */
export const LockLevel = { NONE: 0, SHARED: 1, RESERVED: 2, PENDING: 3, EXCLUSIVE: 4 } as const;

/** Outcome of a lock request: granted, refused because of a handle in this realm, or because of another process. */
export type LockOutcome = "granted" | "busy-here" | "busy-elsewhere";

/** One open file handle's place in a `FileLock`. */
export interface LockHolder {
  level: number;
}

const registry = new Map<string, FileLock>();

/**
 * SQLite's locking protocol for one database file: full SHARED / RESERVED /
 * PENDING / EXCLUSIVE semantics between the handles of this JS realm (two
 * engines, a replica's second handle), and a `DotLock` between processes, held
 * while any handle here holds SHARED or more.
 *
 * Trade-off: the dot lock is exclusive, so across processes even readers
 * take turns (one process at a time inside a transaction, read or write);
 * within a realm, readers share and a writer waits for them as usual. This
 * keeps processes from corrupting the file or reading half a commit, and lets
 * a crashed writer's journal be rolled back by the next opener. It does not
 * protect against programs that lock with POSIX advisory locks instead (the
 * native `sqlite3`/`libsql` libraries, better-sqlite3): they cannot see the
 * dot file, and we cannot see their locks, so such a program must not use the
 * file at the same time.
 */
export class FileLock {
  readonly #dot: DotLock;
  readonly #realPath: string;
  #refs = 0;
  /** Handles at SHARED or more. */
  #shared = 0;
  /** The handle at RESERVED or more, if any. */
  #writer: LockHolder | null = null;

  private constructor(realPath: string) {
    this.#realPath = realPath;
    this.#dot = new DotLock(`${realPath}.lock`);
  }

  /** The lock of the file at `realPath` (symlinks resolved), shared by every handle on it in this realm. */
  static attach(realPath: string): FileLock {
    let lock = registry.get(realPath);
    if (!lock) {
      lock = new FileLock(realPath);
      registry.set(realPath, lock);
    }
    lock.#refs++;
    return lock;
  }

  /** Drops one handle's reference; the caller has unlocked it first. */
  detach(): void {
    if (--this.#refs === 0) registry.delete(this.#realPath);
  }

  /** Raises `holder` to `level` (SHARED, RESERVED or EXCLUSIVE), as `xLock` asks. */
  lock(holder: LockHolder, level: number): LockOutcome {
    if (holder.level >= level) return "granted";
    if (level === LockLevel.SHARED) {
      // A writer waiting for EXCLUSIVE (PENDING) keeps new readers out so it is not starved.
      if (this.#writer !== null && this.#writer.level >= LockLevel.PENDING) return "busy-here";
      if (this.#shared === 0 && !this.#dot.tryAcquire()) return "busy-elsewhere";
      this.#shared++;
      holder.level = LockLevel.SHARED;
      return "granted";
    }
    if (this.#writer !== null && this.#writer !== holder) return "busy-here";
    this.#writer = holder;
    if (level === LockLevel.RESERVED) {
      holder.level = LockLevel.RESERVED;
      return "granted";
    }
    if (this.#shared > 1) {
      holder.level = LockLevel.PENDING;
      return "busy-here";
    }
    holder.level = LockLevel.EXCLUSIVE;
    return "granted";
  }

  /** Lowers `holder` to `level` (SHARED or NONE), as `xUnlock` asks. */
  unlock(holder: LockHolder, level: number): void {
    if (holder.level <= level) return;
    if (this.#writer === holder) this.#writer = null;
    if (level === LockLevel.SHARED) {
      holder.level = LockLevel.SHARED;
      return;
    }
    holder.level = LockLevel.NONE;
    if (--this.#shared === 0) this.#dot.release();
  }

  /**
   * True when a handle other than `holder`, here or in another process, holds
   * RESERVED or more. SQLite asks this to decide whether a journal left beside
   * the database is hot (a crashed writer's, to roll back) or a live writer's.
   * Another process can only hold the dot lock while nobody here does; its
   * level is not recorded, so it counts as a writer.
   */
  reservedByOther(holder: LockHolder): boolean {
    if (this.#writer !== null && this.#writer !== holder) return true;
    return this.#shared === 0 && this.#dot.heldByOther();
  }
}
