/**
 * Ports over a dedicated worker's own message channel (`worker.postMessage`
 * on the page, `postMessage` in the worker) instead of a `MessageChannel`.
 * In Chromium here a round trip there costs 0.82-0.87x one on a
 * `MessagePort`, and a call of the engine made by message ~0.85x (measured
 * in `bench/browser`). Every client of a worker gets a channel of its own
 * (a number): each message travels as `[CHANNEL, channel, message]`, in
 * order with the others of its channel, so that one client closing never
 * disturbs another. A channel opens with `{ [CHANNEL_CONNECT]: channel }`.
 */

/** First element of every message on a channel (comlink's and the hot calls' messages travel inside). */
export const CHANNEL = "libsql-web:channel";
/** The key of the message that opens a channel on the worker. */
export const CHANNEL_CONNECT = "libsql-web:channel-connect";

type Listener = EventListenerOrEventListenerObject;

/**
 * One end of a channel: the part of `MessagePort` that comlink and the hot
 * calls use. It has no `messageerror` of its own: a message that cannot be
 * read fires that event on the `Worker` (or the worker's global scope).
 */
export class ChannelPort {
  readonly #send: (message: unknown, transfer: Transferable[]) => void;
  readonly #closed: () => void;
  readonly #listeners = new Set<Listener>();
  #open = true;

  constructor(send: (message: unknown, transfer: Transferable[]) => void, closed: () => void) {
    this.#send = send;
    this.#closed = closed;
  }

  /** Posts `message` to the other end (after a `close()`, nothing is sent). */
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.#open) this.#send(message, transfer);
  }

  /** Listens for `message` events (other types never fire here). */
  addEventListener(type: string, listener: Listener): void {
    if (type === "message") this.#listeners.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    if (type === "message") this.#listeners.delete(listener);
  }

  /** Messages flow as soon as the channel is open; here for `MessagePort`'s shape. */
  start(): void {}

  /** Stops sending and receiving; later messages for this end are dropped. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#listeners.clear();
    this.#closed();
  }

  /**
   * Hands a message that came on the channel to the listeners. As with an
   * event, a listener that throws has its error reported and the others
   * still run.
   */
  deliver(data: unknown): void {
    const event = { data } as MessageEvent;
    for (const listener of this.#listeners) {
      try {
        if (typeof listener === "function") listener(event);
        else listener.handleEvent(event);
      } catch (error) {
        report(error);
      }
    }
  }
}

/** Reports an error thrown by a listener as an uncaught one, without stopping the caller. */
function report(error: unknown): void {
  if (typeof reportError === "function") reportError(error);
  else
    setTimeout(() => {
      throw error;
    });
}

/** The channels of one worker, on one side: routes each message that came to its port. */
export class ChannelRoutes {
  readonly #ports = new Map<number, ChannelPort>();
  readonly #send: (message: unknown, transfer: Transferable[]) => void;

  /** `send` posts on the worker's own channel (`worker.postMessage`, or the worker's `postMessage`). */
  constructor(send: (message: unknown, transfer: Transferable[]) => void) {
    this.#send = send;
  }

  /** A channel number not in use on this side: random, so that two copies of this code on one page never share one. */
  unused(): number {
    for (;;) {
      const channel = crypto.getRandomValues(new Uint32Array(1))[0] as number;
      if (!this.#ports.has(channel)) return channel;
    }
  }

  /** The end of channel `channel` on this side. */
  open(channel: number): ChannelPort {
    const port = new ChannelPort(
      (message, transfer) => this.#send([CHANNEL, channel, message], transfer),
      () => this.#ports.delete(channel),
    );
    this.#ports.set(channel, port);
    return port;
  }

  /** Routes `data` (a message that came on the worker's channel) when it belongs to a channel; false otherwise. */
  receive(data: unknown): boolean {
    if (!Array.isArray(data) || data[0] !== CHANNEL) return false;
    this.#ports.get(data[1] as number)?.deliver(data[2]);
    return true;
  }
}

const pageRoutes = new WeakMap<Worker, ChannelRoutes>();

/**
 * Opens a channel to `worker` (running libsql-web's worker entry) on the
 * worker's own message channel, and returns the page's end.
 */
export function openWorkerChannel(worker: Worker): ChannelPort {
  let routes = pageRoutes.get(worker);
  if (!routes) {
    const created = new ChannelRoutes((message, transfer) => worker.postMessage(message, transfer));
    worker.addEventListener("message", (event: MessageEvent) => created.receive(event.data));
    pageRoutes.set(worker, created);
    routes = created;
  }
  const channel = routes.unused();
  const port = routes.open(channel);
  worker.postMessage({ [CHANNEL_CONNECT]: channel });
  return port;
}

/**
 * The worker's side: `receive` each message of the worker's own channel;
 * a channel opening calls `connected` with its end (to serve it at once).
 */
export class WorkerChannels {
  readonly #routes: ChannelRoutes;
  readonly #connected: (port: ChannelPort) => void;

  constructor(send: (message: unknown, transfer: Transferable[]) => void, connected: (port: ChannelPort) => void) {
    this.#routes = new ChannelRoutes(send);
    this.#connected = connected;
  }

  /** Handles `data` when it belongs to the channels (a message or an opening); false otherwise. */
  receive(data: unknown): boolean {
    if (this.#routes.receive(data)) return true;
    const channel = (data as Record<string, unknown> | null)?.[CHANNEL_CONNECT];
    if (typeof channel !== "number") return false;
    this.#connected(this.#routes.open(channel));
    return true;
  }
}
