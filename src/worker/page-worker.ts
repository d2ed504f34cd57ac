/**
 * The page's engine worker, shared by every client that brings no worker of
 * its own: one SQLite handle per database for the whole page, so two clients
 * on one `opfs:` database cooperate (through the engine's lock) instead of
 * fighting over OPFS access handles. It ends when its last client closes, and
 * a worker found dead is never handed out again.
 */
interface PageWorker {
  worker: Worker;
  users: number;
  dead: boolean;
}

let current: PageWorker | undefined;

/** A use of the page worker: `release()` once the client closed; `died()` when it was found dead. */
export interface PageWorkerLease {
  readonly worker: Worker;
  release(): void;
  died(): void;
}

/** Leases the page worker, starting one if there is none alive. */
export function leasePageWorker(): PageWorkerLease {
  if (!current || current.dead) {
    const entry: PageWorker = {
      worker: new Worker(new URL("../../worker/main.js", import.meta.url), { type: "module", name: "libsql-web" }),
      users: 0,
      dead: false,
    };
    entry.worker.addEventListener("error", () => {
      entry.dead = true;
    });
    current = entry;
  }
  const entry = current;
  entry.users++;
  let released = false;
  return {
    worker: entry.worker,
    release() {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users === 0) {
        entry.worker.terminate();
        entry.dead = true;
      }
    },
    died() {
      entry.dead = true;
    },
  };
}
