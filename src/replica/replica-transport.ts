import type { Replicated } from "../api.js";
import { type ExpandedConfig, expandConfig } from "../config.js";
import { ErrorCode, LibsqlError } from "../errors.js";
import type { OpenRequest } from "../proto.js";
import { openHttpTransport } from "../remote/http-transport.js";
import type { Transport, TransportStream } from "../transport.js";
import { encodeBaseUrl } from "../uri.js";
import { AsyncGate } from "./async-gate.js";
import { pushChanges } from "./offline-push.js";
import { ReplicaErrorCode } from "./replica-errors.js";
import type { ReplicaHandle } from "./replica-handle.js";
import { ReplicaMainStream } from "./replica-main-stream.js";
import type { MetaStore } from "./replica-meta.js";
import { ReplicaPuller } from "./replica-puller.js";
import type { OfflineReplicaEngine, ReplicaRouter } from "./replica-router.js";
import { ReplicaTxStream } from "./replica-tx-stream.js";
import { type SyncFetch, SyncHttp } from "./sync-http.js";

/** What an entry point provides for replicas: the engine, where the files live, where the metadata lives. */
export interface ReplicaEnvironment {
  engine: OfflineReplicaEngine;
  /** The replicated database. */
  request: OpenRequest;
  /** The working copy that holds offline writes until they are pushed. */
  workingRequest: OpenRequest;
  store: MetaStore;
  /** Runs once the transport closed (e.g. to end a worker it started). */
  onClose?: () => Promise<void> | void;
}

/**
 * Opens an embedded replica: the local database (bootstrapped from the
 * primary if it has none yet), the primary over Hrana for writes, and the
 * HTTP sync protocol for pulls.
 */
export async function openReplicaTransport(
  config: ExpandedConfig,
  handle: ReplicaHandle,
  env: ReplicaEnvironment,
): Promise<Transport> {
  let remoteConfig: ExpandedConfig;
  try {
    remoteConfig = primaryConfig(config);
  } catch (error) {
    // The environment may hold a worker already.
    await env.onClose?.();
    throw error;
  }
  const scheme = remoteConfig.scheme === "wss" ? "https" : remoteConfig.scheme === "ws" ? "http" : remoteConfig.scheme;
  const http = new SyncHttp({
    baseUrl: encodeBaseUrl(scheme, remoteConfig.authority, remoteConfig.path).toString(),
    authToken: config.authToken,
    remoteEncryptionKey: config.remoteEncryptionKey,
    fetch: config.fetch as SyncFetch | undefined,
    timeoutMs: config.remoteTimeout,
  });
  const { engine } = env;
  let remote: Transport | undefined;
  let conn: number | undefined;
  try {
    remote = await openHttpTransport(remoteConfig);
    conn = await engine.open(env.request);
    const puller = await ReplicaPuller.open({ engine, conn, http, store: env.store, handle });
    const transport = new ReplicaTransport(config, handle, env, { conn, http, remote, puller });
    if (puller.meta.dirty) await transport.openWorkingCopy();
    return transport;
  } catch (error) {
    http.close();
    await remote?.close().catch(() => {});
    if (conn !== undefined) await engine.close(conn).catch(() => {});
    await env.onClose?.();
    throw error;
  }
}

/** The primary's config, from a replica's; refuses what a replica cannot do. */
function primaryConfig(config: ExpandedConfig): ExpandedConfig {
  const remoteConfig = expandConfig({
    url: config.syncUrl as string,
    authToken: config.authToken,
    intMode: config.intMode,
    fetch: config.fetch,
    concurrency: config.concurrency,
    remoteTimeout: config.remoteTimeout,
    signal: config.signal,
    remoteEncryptionKey: config.remoteEncryptionKey,
  });
  if (remoteConfig.kind !== "remote") {
    throw new LibsqlError(`syncUrl must be a remote URL, got ${JSON.stringify(config.syncUrl)}`, ErrorCode.URL_INVALID);
  }
  if (config.encryptionFormat === "authenticated") {
    // Replicated pages are stored as the primary sent them: no room for a nonce and tag in each page.
    throw new LibsqlError(
      'encryptionFormat "authenticated" is not available for embedded replicas: the primary\'s pages have no ' +
        "reserved bytes for its nonce and tag, and replicated pages are stored as the primary sent them; use the " +
        'default "libsql" format',
      ReplicaErrorCode.ENCRYPTION_FORMAT_NOT_SUPPORTED,
    );
  }
  return remoteConfig;
}

interface Parts {
  conn: number;
  http: SyncHttp;
  remote: Transport;
  puller: ReplicaPuller;
}

/**
 * An embedded replica as a transport: local reads, writes to the primary
 * (with a pull after each, read-your-writes) or, offline, into a working copy
 * that the next sync pushes; `sync()` pushes pending offline writes, then
 * pulls; `syncInterval` syncs in the background.
 *
 * Offline writes go to a working copy (`<db>-offline`) made from the
 * replicated database when the first one happens, because frames from the
 * primary can only be applied to exactly the pages they were made for. The
 * replicated database stays as the primary had it; a sync diffs the copy
 * against it (session extension), pushes the difference as one transaction,
 * and once that committed, drops the copy and pulls.
 */
class ReplicaTransport implements Transport, ReplicaRouter {
  readonly protocol = "file" as const;
  readonly main: TransportStream;
  readonly engine: OfflineReplicaEngine;
  readonly remote: Transport;
  readonly syncedConn: number;
  readonly #config: ExpandedConfig;
  readonly #handle: ReplicaHandle;
  readonly #env: ReplicaEnvironment;
  readonly #http: SyncHttp;
  readonly #puller: ReplicaPuller;
  readonly #gate = new AsyncGate();
  #work: number | undefined;
  /** Pushed, not pulled yet: reads stay on the working copy, which has the pushed changes. */
  #readWork = false;
  #making: Promise<number> | undefined;
  #running: Promise<NonNullable<Replicated>> | undefined;
  #queued: Promise<NonNullable<Replicated>> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(config: ExpandedConfig, handle: ReplicaHandle, env: ReplicaEnvironment, parts: Parts) {
    this.#config = config;
    this.#handle = handle;
    this.#env = env;
    this.engine = env.engine;
    this.remote = parts.remote;
    this.syncedConn = parts.conn;
    this.#http = parts.http;
    this.#puller = parts.puller;
    this.main = new ReplicaMainStream(this);
    const seconds = config.syncInterval;
    if (seconds !== undefined && seconds > 0) {
      this.#timer = setInterval(() => void this.sync().catch(() => {}), seconds * 1000);
      // A background sync must not keep a Node process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  async openStream(): Promise<TransportStream> {
    return new ReplicaTxStream(this);
  }

  /** Syncs now; if a sync is running, runs one more after it (so that it sees everything committed before this call). */
  sync(): Promise<NonNullable<Replicated>> {
    if (this.#closed) return Promise.reject(new LibsqlError("The client is closed", ErrorCode.CLIENT_CLOSED));
    if (!this.#running) {
      const running = this.#syncOnce().finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    }
    this.#queued ??= this.#running
      .catch(() => {})
      .then(() => {
        this.#queued = undefined;
        return this.sync();
      });
    return this.#queued;
  }

  async #syncOnce(): Promise<NonNullable<Replicated>> {
    this.#handle.syncing(true);
    try {
      const result = await this.#gate.exclusive(async () => {
        if (this.#dirty) await this.#push();
        const pulled = await this.#puller.pull();
        this.#readWork = false;
        return pulled;
      });
      this.#handle.synced(result, new Date());
      return result;
    } catch (error) {
      const failure =
        error instanceof LibsqlError
          ? error
          : new LibsqlError(`the sync failed: ${String(error)}`, ErrorCode.INTERNAL_ERROR, undefined, undefined, error);
      this.#handle.failed(failure);
      throw failure;
    } finally {
      this.#handle.syncing(false);
    }
  }

  /** Pushes the working copy's changes; once the primary committed them, the copy is dropped. */
  async #push(): Promise<void> {
    const work = await this.openWorkingCopy();
    const changes = await this.engine.replicaDiff(work, this.syncedConn);
    const progress = (done: number) =>
      this.#handle.progress({
        phase: "push",
        bytesDone: 0,
        bytesExpected: undefined,
        framesDone: done,
        framesExpected: changes.length,
      });
    progress(0);
    await pushChanges(this.remote, changes, this.#handle.options.onConflict);
    progress(changes.length);
    this.#readWork = true;
    await this.#puller.save({ dirty: false, pendingWrites: 0 });
  }

  get #dirty(): boolean {
    return this.#puller.meta.dirty === true;
  }

  readConn(): number {
    return (this.#dirty || this.#readWork) && this.#work !== undefined ? this.#work : this.syncedConn;
  }

  writesLocally(): boolean {
    return this.#config.offline === true || this.#dirty;
  }

  fallsBack(error: unknown): boolean {
    return (
      this.#handle.options.offlineWhenUnreachable === true &&
      error instanceof LibsqlError &&
      error.code === ErrorCode.NETWORK_ERROR
    );
  }

  async write<T>(online: () => Promise<T>, offline: (work: number) => Promise<T>, pull = true): Promise<T> {
    if (this.writesLocally()) return this.#writeLocally(offline);
    let result: T;
    try {
      result = await online();
    } catch (error) {
      if (this.fallsBack(error)) return this.#writeLocally(offline);
      throw error;
    }
    if (pull) await this.afterRemoteWrite();
    return result;
  }

  async afterRemoteWrite(): Promise<void> {
    if (this.#config.readYourWrites === false) return;
    // The write committed on the primary: a failed pull is the sync's failure (state, event), not the write's.
    await this.sync().catch(() => {});
  }

  async #writeLocally<T>(offline: (work: number) => Promise<T>): Promise<T> {
    const { work, release } = await this.enterWorkingCopy();
    try {
      let result: T;
      try {
        result = await offline(work);
      } catch (error) {
        throw await this.explain(error, work);
      }
      await this.countLocalWrite();
      return result;
    } finally {
      release();
    }
  }

  async enterWorkingCopy(): Promise<{ work: number; release: () => void }> {
    const release = await this.#gate.acquire(false);
    try {
      return { work: await this.#ensureDirty(), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** The working copy, made from the replicated database if offline writes are not pending yet (gate held shared). */
  #ensureDirty(): Promise<number> {
    if (this.#dirty && this.#work !== undefined) return Promise.resolve(this.#work);
    this.#making ??= (async () => {
      const work = await this.openWorkingCopy();
      if (!this.#dirty) {
        this.#readWork = false;
        await this.engine.replicaCopy(this.syncedConn, work);
        await this.engine.replicaGuardOfflineWrites(work);
        // Only now is the copy complete: a crash before this leaves it unused.
        await this.#puller.save({ dirty: true, pendingWrites: 0 });
      }
      return work;
    })().finally(() => {
      this.#making = undefined;
    });
    return this.#making;
  }

  /** Opens the working copy's connection (once) with its guard. */
  async openWorkingCopy(): Promise<number> {
    if (this.#work === undefined) {
      const work = await this.engine.open(this.#env.workingRequest);
      await this.engine.replicaGuardOfflineWrites(work);
      this.#work = work;
    }
    return this.#work;
  }

  async countLocalWrite(): Promise<void> {
    await this.#puller.save((meta) => ({ pendingWrites: (meta.pendingWrites ?? 0) + 1 }));
  }

  async explain(error: unknown, work: number): Promise<unknown> {
    if (!(error instanceof LibsqlError) || error.code !== "SQLITE_AUTH") return error;
    const why = await this.engine.replicaRefusal(work);
    if (why === undefined) return error;
    return new LibsqlError(why, ReplicaErrorCode.OFFLINE_WRITE_REFUSED, error.extendedCode, error.rawCode, error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#http.close();
    await Promise.allSettled([this.#running, this.#queued]);
    try {
      await this.remote.close().catch(() => {});
      await this.engine.close(this.syncedConn);
      if (this.#work !== undefined) await this.engine.close(this.#work);
    } finally {
      await this.#env.onClose?.();
    }
  }
}
