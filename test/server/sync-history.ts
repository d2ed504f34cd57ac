import { readFileSync } from "node:fs";
import type { NativeDatabase } from "./native-database.js";
import { WalScanner } from "./sync-wal.js";

/** One generation: the database file it started from and the WAL frames written since. */
interface Generation {
  snapshot: Buffer;
  frames: Buffer[];
}

/**
 * The replication history of a test server's database, as the HTTP sync protocol serves
 * it (§3.3-3.8, §3.10): generations numbered from 1, each with the database file at its
 * start (what `/export/{g}` returns) and the real WAL frames committed during it (what
 * `/sync/{g}/{s}/{e}` returns, 1-based). Frames are read from the `-wal` file on demand,
 * so a write's frames are servable as soon as it committed, and kept in memory, so old
 * generations stay available after checkpoints.
 */
export class SyncHistory {
  readonly #dbPath: string;
  readonly #db: () => NativeDatabase;
  readonly #scanner: WalScanner;
  readonly #generations: Generation[] = [];
  /** Times the WAL was checkpointed behind the history's back (a server restart), losing track. */
  #unexpectedRestarts = 0;

  /** `db` returns the server's long-lived connection (it changes when the server restarts). */
  constructor(dbPath: string, db: () => NativeDatabase) {
    this.#dbPath = dbPath;
    this.#db = db;
    this.#scanner = new WalScanner(`${dbPath}-wal`);
    this.#generations.push({ snapshot: readFileSync(dbPath), frames: [] });
    this.capture();
  }

  /** The current generation number (1-based). */
  get generation(): number {
    return this.#generations.length;
  }

  /** Frames of the current generation captured so far (after a `capture()`). */
  get frameCount(): number {
    return this.#current().frames.length;
  }

  /** How often the WAL was checkpointed without `checkpoint()` (the server restarted): frames may be lost then. */
  get unexpectedRestarts(): number {
    return this.#unexpectedRestarts;
  }

  /**
   * Reads frames committed since the last call into the current generation. If SQLite
   * checkpointed the WAL itself (closing the server's last connection does), a new
   * generation starts from the database file as it is now.
   */
  capture(): void {
    const { frames, restarted } = this.#scanner.scan();
    if (restarted) {
      this.#unexpectedRestarts++;
      // Frames read along with the news belong to the new WAL, so to the new generation.
      this.#generations.push({ snapshot: readFileSync(this.#dbPath), frames });
      return;
    }
    this.#current().frames.push(...frames);
  }

  /**
   * Ends the current generation: captures its last frames, checkpoints the WAL into the
   * database file (TRUNCATE, so the next write starts a new WAL) and starts a new
   * generation whose snapshot is that file. Fails with SQLITE_BUSY while another
   * connection is inside a transaction.
   */
  checkpoint(): number {
    this.capture();
    const row = this.#db().prepare("PRAGMA wal_checkpoint(TRUNCATE)").raw(true).get() as unknown[];
    if (Number(row[0]) !== 0) throw new Error("checkpoint blocked: another connection is reading or writing");
    this.#scanner.reset();
    this.#generations.push({ snapshot: readFileSync(this.#dbPath), frames: [] });
    return this.generation;
  }

  /** The database file at the start of generation `g`, or undefined for an unknown generation. */
  snapshot(g: number): Buffer | undefined {
    return this.#generations[g - 1]?.snapshot;
  }

  /** Frames `[start, end)` (1-based) of generation `g` that exist; empty when there is none at `start`. */
  frames(g: number, start: number, end: number): Buffer[] {
    if (g === this.generation) this.capture();
    const gen = this.#generations[g - 1];
    if (!gen || start < 1) return [];
    return gen.frames.slice(start - 1, Math.max(start - 1, end - 1));
  }

  #current(): Generation {
    return this.#generations[this.#generations.length - 1] as Generation;
  }
}
