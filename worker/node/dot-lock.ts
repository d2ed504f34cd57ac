import { randomBytes } from "node:crypto";
import {
  linkSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";

/** A lock file without an owner line (written by other software, or cut short) is left alone this long before it counts as stale. */
const UNFINISHED_OWNER_GRACE_MS = 10_000;

const host = hostname();

/** Who holds a dot lock, as written in the lock file (whose token line makes each holder's text unique). */
interface Owner {
  pid: number;
  host: string;
}

/**
 * An exclusive lock between processes: the file `<db>.lock`, linked into
 * place whole (atomic on local file systems) and holding the owner's
 * PID, a random token and the host name. Node has no `fcntl`/`flock`, so this
 * is SQLite's own "dot-file" locking, plus recovery: a lock whose process is
 * gone (killed, crashed, exited inside a transaction) is broken by the next
 * process that wants it, so a dead process never leaves the database locked.
 *
 * The token, not the PID, tells holders apart: two JS realms in one process
 * (worker threads) each have their own token, and a lock carrying this
 * process's PID but a foreign token belongs to another realm and counts as held.
 *
 * Limits: the PID check only means something on the same host, so a lock
 * written by another host (a shared network folder) is never broken; a reused
 * PID keeps a stale lock alive until that process ends; a worker thread that
 * is terminated while holding the lock keeps it until the process exits.
 */
export class DotLock {
  readonly #path: string;
  readonly #token = randomBytes(12).toString("hex");
  readonly #content: string;
  #held = false;
  #swept = false;

  constructor(path: string) {
    this.#path = path;
    this.#content = `${process.pid}\n${this.#token}\n${host}\n`;
  }

  /**
   * Takes the lock if nobody else holds it, breaking a stale one on the way.
   * Returns false when a live owner holds it; throws on I/O errors.
   */
  tryAcquire(): boolean {
    if (this.#held) return true;
    if (!this.#swept) {
      this.#swept = true;
      sweepOwnerFiles(this.#path);
    }
    // Two rounds: the second follows a stale lock just broken or an owner that let go meanwhile.
    for (let round = 0; round < 2; round++) {
      if (this.#create()) {
        this.#held = true;
        return true;
      }
      const seen = this.#read(this.#path);
      if (seen === null) continue;
      if (!this.#isStale(seen)) return false;
      this.#breakStale(seen);
    }
    return false;
  }

  /** Releases the lock (a no-op when not held). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.#held = true;
        throw error;
      }
    }
  }

  /** True when a live holder other than this object holds the lock. */
  heldByOther(): boolean {
    if (this.#held) return false;
    const seen = this.#read(this.#path);
    return seen !== null && seen !== this.#content && !this.#isStale(seen);
  }

  /**
   * Creates the lock file with our owner line; false if it already exists.
   * The line is written to a file of our own first and linked into place
   * (atomic, and failing if the lock exists), so that the lock never exists
   * without its owner: a process killed in between leaves no lock, only its
   * owner file, which the next `DotLock` of the file sweeps (`sweepOwnerFiles`).
   */
  #create(): boolean {
    // The PID in the name too: a process killed before it wrote the owner line leaves an empty file that says whose.
    const mine = `${this.#path}.${process.pid}.${this.#token}`;
    writeFileSync(mine, this.#content, { mode: 0o644 });
    try {
      linkSync(mine, this.#path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    } finally {
      unlinkSync(mine);
    }
  }

  /** The lock file's text, or null when it does not exist. */
  #read(path: string): string | null {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  #isStale(content: string): boolean {
    const owner = parseOwner(content);
    if (owner === null) {
      // No owner line: not written by a DotLock (whose lock appears whole); left alone until old.
      const stat = statSync(this.#path, { throwIfNoEntry: false });
      return stat !== undefined && Date.now() - stat.mtimeMs > UNFINISHED_OWNER_GRACE_MS;
    }
    return ownerGone(owner);
  }

  /**
   * Removes a stale lock without racing another process that breaks it at the
   * same time: move it aside under a name only we use, and check that what we
   * moved is the stale lock we saw. If someone else broke it first and a new
   * owner took the lock meanwhile, we moved the new owner's lock: put it back.
   */
  #breakStale(seen: string): void {
    const aside = `${this.#path}.stale-${this.#token}`;
    try {
      renameSync(this.#path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const moved = this.#read(aside);
    if (moved !== null && moved !== seen) {
      try {
        linkSync(aside, this.#path);
      } catch (error) {
        // EEXIST: a third process locked in the two syscalls' window; nothing more can be done.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
    unlinkSync(aside);
  }
}

/**
 * Removes the owner files (`<lock>.<pid>.<token>`, see `#create`; earlier
 * versions wrote `<lock>.<token>`) that processes killed between creating
 * one and removing it left beside `lockPath`: those whose process is gone.
 * They never held the lock; they are only litter. The owner line says whose
 * a file is; a file killed before its line was written is its name's PID's,
 * taken to be of this host (a shared folder's other hosts are not told apart
 * there).
 */
export function sweepOwnerFiles(lockPath: string): void {
  const prefix = `${basename(lockPath)}.`;
  let dir: string;
  let names: string[];
  try {
    // As the file's lock is named: its folder with symlinks resolved.
    dir = realpathSync(dirname(lockPath));
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(?:(\d+)\.)?[0-9a-f]{24}$/.exec(name.slice(prefix.length)) : null;
    if (!match) continue;
    const path = join(dir, name);
    try {
      const named = match[1] === undefined ? null : { pid: Number(match[1]), host };
      const owner = parseOwner(readFileSync(path, "utf8")) ?? named;
      if (owner !== null && ownerGone(owner)) unlinkSync(path);
    } catch (error) {
      // Gone meanwhile (its owner finished), or not ours to read: left as it is.
      if (!["ENOENT", "EACCES", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
    }
  }
}

/** True when `owner` is a process of this host, not this one, that no longer runs. */
function ownerGone(owner: Owner): boolean {
  if (owner.host !== host) return false;
  if (owner.pid === process.pid) return false;
  return !processAlive(owner.pid);
}

function parseOwner(content: string): Owner | null {
  const lines = content.split("\n");
  if (lines.length !== 4 || lines[3] !== "") return null;
  const pid = Number(lines[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { pid, host: lines[2] as string };
}

/** Whether process `pid` exists and is not a zombie (Linux reports zombies through `/proc`). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  if (process.platform !== "linux") return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the parenthesised command name, which may itself hold ") ".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
