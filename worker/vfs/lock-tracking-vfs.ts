import type { Sqlite } from "../sqlite/sqlite.js";
import { installWrappingVfs, type WrappingVfs } from "./wrapping-vfs.js";

const SQLITE_OK = 0;
const SQLITE_LOCK_RESERVED = 2;

interface LockState {
  level: number;
}

/**
 * Wraps a VFS whose `xCheckReservedLock` cannot be trusted (`opfs-sahpool`
 * always answers "locked"; `opfs` answers "locked" whenever the asking handle
 * holds any lock, which it always does when SQLite asks). SQLite asks before
 * treating a left-over rollback journal as hot, so with those answers a
 * transaction cut short by a crash is never rolled back and its half-written
 * pages stay in the database.
 *
 * This wrapper records the level of every `xLock`/`xUnlock` per open file and
 * answers truthfully: locked only when another handle in this worker on the
 * same file holds RESERVED or more. That is the whole truth for both VFSes:
 * sahpool's files belong to one worker at a time (the pool's Web Lock), and
 * an `opfs` handle holding SHARED holds the file's exclusive access handle,
 * so no other tab can hold a lock on it at that moment.
 */
export function installLockTrackingVfs(sqlite: Sqlite, options: { name: string; base: string }): WrappingVfs {
  const byName = new Map<string, Set<LockState>>();
  return installWrappingVfs<LockState>(sqlite, {
    ...options,
    hooks: {
      open(file) {
        const state = { level: 0 };
        if (file.name !== "") {
          const states = byName.get(file.name) ?? new Set<LockState>();
          byName.set(file.name, states);
          states.add(state);
        }
        return state;
      },
      close(file) {
        const states = byName.get(file.name);
        states?.delete(file.state);
        if (states?.size === 0) byName.delete(file.name);
      },
      xLock(file, level) {
        const rc = file.base.xLock(level);
        if (rc === SQLITE_OK) file.state.level = level;
        return rc;
      },
      xUnlock(file, level) {
        const rc = file.base.xUnlock(level);
        if (rc === SQLITE_OK) file.state.level = level;
        return rc;
      },
      xCheckReservedLock(file, pOut) {
        let reserved = 0;
        for (const other of byName.get(file.name) ?? []) {
          if (other !== file.state && other.level >= SQLITE_LOCK_RESERVED) reserved = 1;
        }
        sqlite.i32[pOut >> 2] = reserved;
        return SQLITE_OK;
      },
    },
  });
}
