import type { Replicated } from "../api.js";
import type { EngineApi, ReceivedRows, ReplicaEngineApi } from "../proto.js";
import { receivedRow } from "../received-rows.js";
import { type ChainEnd, checkFrames, committedFrames, FRAME_SIZE } from "./frame-check.js";
import { ReplicaErrorCode, replicaError } from "./replica-errors.js";
import type { ReplicaHandle } from "./replica-handle.js";
import type { MetaStore, ReplicaMeta } from "./replica-meta.js";
import type { PullAnswer, SyncHttp } from "./sync-http.js";

/** The engine calls a replica makes. */
export type ReplicaEngine = EngineApi<ReceivedRows> & ReplicaEngineApi;

/** Frames asked for per request (libsql asks for 128; 4 MB batches mean fewer round trips). */
const PULL_BATCH = 1024;
/** Frames are applied once this many bytes of them arrived (and at the end of a pull). */
const APPLY_BYTES = 16 * 1024 * 1024;
/** A frame number no generation reaches: asking for it answers "end of data" with the generation's size. */
const BEYOND = 2 ** 31 - 2;

/** What the puller works on. */
export interface PullerParts {
  engine: ReplicaEngine;
  /** The connection to the replicated (pristine) database. */
  conn: number;
  http: SyncHttp;
  store: MetaStore;
  handle: ReplicaHandle;
}

/**
 * Keeps a local database in step with the primary (docs/protocols.md §3.4-3.8):
 * bootstraps it from `/export/{g}`, pulls frames from `/sync/{g}/{s}/{e}`,
 * applies whole server transactions atomically through the engine, walks
 * generations one at a time, and keeps the metadata (`ReplicaMeta`) in step
 * without ever letting it claim more than the database holds.
 */
export class ReplicaPuller {
  readonly #parts: PullerParts;
  #meta: ReplicaMeta;
  #saving: Promise<void> = Promise.resolve();

  private constructor(parts: PullerParts, meta: ReplicaMeta) {
    this.#parts = parts;
    this.#meta = meta;
    parts.handle.fromMeta(meta);
  }

  /**
   * Opens the replica's state: bootstraps a database that has none yet (or
   * whose bootstrap was cut short), and refuses a database that exists
   * without replica metadata (it is not a replica of this primary).
   */
  static async open(parts: PullerParts): Promise<ReplicaPuller> {
    const meta = await parts.store.load();
    const pages = await pageCount(parts);
    if (meta === undefined) {
      if (pages !== 0) {
        throw replicaError(
          ReplicaErrorCode.REPLICA_STATE_INVALID,
          "the local database already exists but is not an embedded replica (it has no replica state beside it); use a new path",
        );
      }
      return new ReplicaPuller(parts, await bootstrap(parts, undefined));
    }
    if (meta.bootstrapping || pages <= 0) {
      if (meta.dirty) {
        throw replicaError(
          ReplicaErrorCode.REPLICA_STATE_INVALID,
          "the replicated database is missing while offline writes are pending",
        );
      }
      return new ReplicaPuller(parts, await bootstrap(parts, meta));
    }
    return new ReplicaPuller(parts, meta);
  }

  /** The metadata as saved last. */
  get meta(): ReplicaMeta {
    return this.#meta;
  }

  /**
   * Saves a change to the metadata (durably, before returning). Saves run one
   * at a time, each on the metadata as the previous one left it, so a change
   * given as a function (an increment) is never lost.
   */
  save(change: Partial<ReplicaMeta> | ((meta: ReplicaMeta) => Partial<ReplicaMeta>)): Promise<void> {
    const run = async () => {
      const meta: ReplicaMeta = { ...this.#meta, ...(typeof change === "function" ? change(this.#meta) : change) };
      await this.#parts.store.save(meta);
      this.#meta = meta;
      this.#parts.handle.fromMeta(meta);
    };
    const saved = this.#saving.then(run, run);
    this.#saving = saved.catch(() => {});
    return saved;
  }

  /** Pulls and applies every frame the primary has beyond the local database. */
  async pull(): Promise<NonNullable<Replicated>> {
    const { http, handle } = this.#parts;
    let next = this.#meta.frameNo + 1;
    let mustReach = this.#meta.applyingTo ?? 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let chain: ChainEnd | undefined;
    let synced = 0;
    let received = 0;
    let bytesDone = 0;
    let expected: number | undefined;
    let first = true;
    const report = (responseBytes: number) =>
      handle.progress({
        phase: "pull",
        bytesDone: bytesDone + responseBytes,
        bytesExpected: expected === undefined ? undefined : expected * FRAME_SIZE,
        framesDone: received,
        framesExpected: expected,
      });
    const apply = async (final: boolean) => {
      if (pending.length === 0) return;
      const bytes = pending.length === 1 ? (pending[0] as Uint8Array) : concat(pending, pendingBytes);
      const complete = committedFrames(bytes);
      const target = this.#meta.frameNo + complete;
      if (complete === 0 || (target < mustReach && !final)) {
        pending = [bytes];
        return;
      }
      if (target < mustReach) {
        throw replicaError(
          ReplicaErrorCode.REPLICA_STATE_INVALID,
          `the primary has fewer frames (${target}) than the replica had started to apply (${mustReach})`,
        );
      }
      await this.save({ applyingTo: target });
      const applied = await this.#parts.engine.replicaApplyFrames(
        this.#parts.conn,
        bytes.subarray(0, complete * FRAME_SIZE),
      );
      if (applied.frames !== complete) {
        throw replicaError(ReplicaErrorCode.SYNC_PROTOCOL_ERROR, "the engine applied a different number of frames");
      }
      await this.save({ frameNo: target, applyingTo: undefined });
      synced += complete;
      mustReach = 0;
      const rest = bytes.subarray(complete * FRAME_SIZE);
      pending = rest.byteLength > 0 ? [rest] : [];
      pendingBytes = rest.byteLength;
    };
    const ask = (generation: number, start: number): Promise<PullAnswer> => {
      const request = http.pull(generation, start, start + PULL_BATCH, (done) => report(done));
      // Awaited below; one left behind by an earlier failure must not count as unhandled.
      request.catch(() => {});
      return request;
    };
    let request = ask(this.#meta.generation, next);
    for (;;) {
      const generation = this.#meta.generation;
      let answer: PullAnswer;
      try {
        answer = await request;
      } catch (error) {
        // Keep what arrived whole before the failure (the connection broke, the server went away).
        await apply(false).catch(() => {});
        throw error;
      }
      if (answer.kind === "frames") {
        const count = answer.bytes.byteLength / FRAME_SIZE;
        next += count;
        received += count;
        bytesDone += answer.bytes.byteLength;
        // The next batch travels while this one is checked and applied.
        request = ask(generation, next);
        const expecting = first && count === PULL_BATCH ? this.#expected(generation) : undefined;
        first = false;
        chain = checkFrames(answer.bytes, chain);
        if (expecting) expected = await expecting;
        pending.push(answer.bytes);
        pendingBytes += answer.bytes.byteLength;
        report(0);
        if (pendingBytes >= APPLY_BYTES) await apply(false);
        continue;
      }
      await apply(true);
      // Frames of a transaction without its commit frame: the primary never committed it.
      pending = [];
      pendingBytes = 0;
      if (answer.generation > generation) {
        await this.save({ generation: generation + 1, frameNo: 0, applyingTo: undefined });
        next = 1;
        chain = undefined;
        request = ask(generation + 1, next);
        continue;
      }
      if (
        answer.generation < generation ||
        (answer.maxFrameNo !== undefined && answer.maxFrameNo < this.#meta.frameNo)
      ) {
        throw replicaError(
          ReplicaErrorCode.REPLICA_STATE_INVALID,
          `the primary is behind the replica (generation ${answer.generation}, ${answer.maxFrameNo ?? "?"} frames; the replica has generation ${generation}, frame ${this.#meta.frameNo}): it was reset or restored`,
        );
      }
      break;
    }
    await this.save({ lastSyncAt: Date.now() });
    return { frame_no: this.#meta.frameNo, frames_synced: synced };
  }

  /** How many frames the current generation has beyond the local database, if the server says. */
  async #expected(generation: number): Promise<number | undefined> {
    const answer = await this.#parts.http.pull(generation, BEYOND, BEYOND + 1, () => {});
    if (answer.kind !== "end" || answer.generation !== generation || answer.maxFrameNo === undefined) return undefined;
    return Math.max(0, answer.maxFrameNo - this.#meta.frameNo);
  }
}

/** The local database's size in pages; 0 when empty, -1 when it is not a database. */
async function pageCount({ engine, conn }: PullerParts): Promise<number> {
  try {
    const result = await engine.execute(conn, { sql: "PRAGMA page_count" }, "number");
    return Number(receivedRow(result.rows, 0)?.[0] ?? 0);
  } catch {
    return -1;
  }
}

/** Downloads the primary's current generation and writes it as the local database. */
async function bootstrap(parts: PullerParts, previous: ReplicaMeta | undefined): Promise<ReplicaMeta> {
  const { http, store, engine, conn, handle } = parts;
  const generation = await http.info();
  const meta: ReplicaMeta = {
    version: 1,
    generation,
    frameNo: 0,
    bootstrapping: true,
    lastSyncAt: previous?.lastSyncAt,
  };
  await store.save(meta);
  const image = await http.export(generation, (done, expected) =>
    handle.progress({
      phase: "bootstrap",
      bytesDone: done,
      bytesExpected: expected,
      framesDone: 0,
      framesExpected: undefined,
    }),
  );
  await engine.replicaWriteImage(conn, image);
  const done: ReplicaMeta = { ...meta, bootstrapping: undefined };
  await store.save(done);
  return done;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
