import { watchLifetimeLock } from "./watch-lifetime-lock.js";
import { openWorkerChannel } from "./worker-channel.js";
import { WorkerEngine } from "./worker-engine.js";
import { CONNECT_MESSAGE } from "./worker-protocol.js";

/** The engine's worker, connected. */
export interface WorkerSession {
  readonly engine: WorkerEngine;
  /** Stops using the worker: ends it if the session started it, else gives its port back. */
  close(): void;
  /** Ends the worker now when the session has the `Worker` (else only stops using its port). */
  terminate(): void;
}

/** How long the worker may take to start answering (loading its script; the wasm loads later). */
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Connects to the engine's worker: `endpoint` (a `Worker` running the worker
 * entry, or a port from `connectWorker`), or a new worker that the session
 * owns. Watches for the worker's end (its `error` event, and a Web Lock it
 * holds for its whole life), after which every call rejects with
 * `WORKER_TERMINATED` and `onWorkerEnd` is called.
 */
export async function startWorkerSession(
  endpoint?: Worker | MessagePort,
  onWorkerEnd?: () => void,
  sharedLane?: boolean,
): Promise<WorkerSession> {
  const owned = endpoint === undefined;
  const target =
    endpoint ?? new Worker(new URL("../../worker/main.js", import.meta.url), { type: "module", name: "libsql-web" });
  const worker = target instanceof MessagePort ? undefined : target;
  // Given a `Worker` (or starting one): a channel on its own messages, faster than a `MessagePort` (`worker-channel.ts`).
  const port = worker ? openWorkerChannel(worker) : (target as MessagePort);
  const engine = new WorkerEngine(port, sharedLane === undefined ? {} : { sharedLane });
  const cleanups: (() => void)[] = [];
  const listen = (source: EventTarget, type: string, listener: (event: Event) => void) => {
    source.addEventListener(type, listener);
    cleanups.push(() => source.removeEventListener(type, listener));
  };
  const dispose = () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const fail = (what: string, event: Event) => {
    dispose();
    engine.end(what, event);
    onWorkerEnd?.();
    if (owned) worker?.terminate();
  };
  if (worker) {
    listen(worker, "error", (event) =>
      fail(`failed: ${event instanceof ErrorEvent ? event.message : "its script could not be loaded"}`, event),
    );
    listen(worker, "messageerror", (event) => fail("sent a message that could not be read", event));
  }
  // A channel's unreadable messages fire `messageerror` on the worker (above).
  if (port instanceof MessagePort)
    listen(port, "messageerror", (event) => fail("sent a message that could not be read", event));
  const close = () => {
    dispose();
    if (owned) {
      engine.end("was closed with its client");
      worker?.terminate();
    } else if (!engine.ended) {
      // A channel opened here to a given Worker is ours: the worker stops serving it.
      if (worker) {
        engine.release();
        port.close();
      }
      engine.end("connection was closed with its client");
    }
  };

  const timer = setTimeout(
    () => fail(`did not answer within ${HANDSHAKE_TIMEOUT_MS} ms`, new Event("timeout")),
    HANDSHAKE_TIMEOUT_MS,
  );
  try {
    const lockName = await engine.lifetimeLock();
    if (lockName !== null && typeof navigator !== "undefined" && navigator.locks) {
      cleanups.push(watchLifetimeLock(lockName, () => fail("ended", new Event("ended"))));
    }
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    engine,
    close,
    terminate() {
      dispose();
      engine.end("was terminated");
      if (worker) worker.terminate();
      else engine.release();
    },
  };
}

/**
 * Gives `worker` (running libsql-web's worker entry) a port of its own to
 * serve and returns the other end. Pass the port as `worker` to
 * `openWorkerTransport`, here or in another context it is transferred to.
 */
export function connectWorker(worker: Worker): MessagePort {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ [CONNECT_MESSAGE]: port2 }, [port2]);
  return port1;
}
