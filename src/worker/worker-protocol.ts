import type { EngineApi } from "../proto.js";

/**
 * The key of the message that gives the worker a `MessagePort` to serve
 * (`worker.postMessage({ [CONNECT_MESSAGE]: port }, [port])`). Each transport
 * talks over a port of its own, so that closing one never disturbs another
 * on the same worker.
 */
export const CONNECT_MESSAGE = "libsql-web:connect";

/** What the worker serves on each connected port: the engine, plus its lifetime lock. */
export interface WorkerApi extends EngineApi {
  /**
   * The name of a Web Lock the worker holds until it ends: once the page can
   * take it, the worker is gone. Null where Web Locks do not exist.
   */
  lifetimeLock(): Promise<string | null>;
}
