import { LaneCodec } from "./lane-codec.js";

/**
 * The shared lane: on a cross-origin isolated page, hot calls can skip
 * `postMessage`. A `postMessage` round trip to a worker costs ~35-50 µs
 * here, most of it waking each side's event loop; a worker blocked in
 * `Atomics.wait` wakes in a few microseconds. So, after answering, an idle
 * worker waits a little (`lingerMs`) on a `SharedArrayBuffer` the page gave
 * it; a call made meanwhile is written there, and its answer comes back
 * there, the page waiting with `Atomics.waitAsync` (its thread never
 * blocks). Whatever does not fit the lane (large payloads, rows sent ahead)
 * goes by message, as do calls made while the worker is busy or back in its
 * event loop. Calls start in the order the page made them, whichever way
 * they travel. Measured in `bench/browser`.
 *
 * The header's slots (`Int32Array` indices):
 */
export const STATE = 0;
/** Bumped by the worker each time it answers a call from the lane. */
export const ANSWER_SEQ = 1;
/** Messages the page posted on the port so far (wrapping at 2^32). */
export const SENT = 2;
/** How the last lane call was answered: the hot answer's kind (`ANSWER_RESULT`, `ANSWER_ERROR`) or `LANE_BY_MESSAGE`. */
export const ANSWER_KIND = 3;
/** Messages the worker received on the port so far. */
export const SEEN = 4;
/** `SENT` when the page wrote the request on the lane: the worker serves it after those messages. */
export const REQUEST_AFTER = 5;

const HEADER_BYTES = 64;
/** Room for a request or an answer; anything larger goes by message. */
const DATA_BYTES = 256 * 1024;

/** `STATE`: the worker runs its event loop (or a call); the page posts messages. */
export const AWAKE = 0;
/** `STATE`: the worker waits on the lane; the page may write a request and flip it to `REQUEST`. */
export const PARKED = 1;
/** `STATE`: a request is on the lane, or being served. */
export const REQUEST = 2;
/** `STATE`: the page posted a message; the worker stops waiting and goes back to its event loop. */
export const WAKE = 3;

/** `ANSWER_KIND`: the answer went by message (it did not fit, or rows went ahead of it). */
export const LANE_BY_MESSAGE = -1;

/** How long the worker waits on a lane, and serves it before letting its event loop run. */
export interface LaneTiming {
  /** How long an idle worker waits on the lane after an answer (ms): longer than the page's pause between awaited calls. */
  lingerMs: number;
  /** How long the worker may serve the lane before it lets its event loop run (other ports, timers), in ms. */
  sliceMs: number;
}

/** The default timing: short enough that other ports and timers of the worker wait a few ms at most. */
export const LANE_TIMING: LaneTiming = { lingerMs: 2, sliceMs: 5 };

/** The header and data views of a lane's buffer, for either side. */
export class LaneMemory {
  readonly buffer: SharedArrayBuffer;
  readonly slots: Int32Array;
  readonly codec: LaneCodec;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.slots = new Int32Array(buffer, 0, HEADER_BYTES >> 2);
    this.codec = new LaneCodec(buffer, HEADER_BYTES, buffer.byteLength - HEADER_BYTES);
  }
}

/** True where the page can use a lane: shared memory, and `Atomics.waitAsync` for the page's side. */
export function sharedLaneAvailable(): boolean {
  return (
    typeof SharedArrayBuffer === "function" &&
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function"
  );
}

/** `Atomics.waitAsync` (typed here: TypeScript's ES2022 library lacks it). */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

/** This page's lanes: a message posted to any port wakes every worker waiting on one (the worker may serve several ports). */
const pageLanes = new Set<PageLane>();

/** The page's side of a lane: sends a call on it when the worker waits there. */
export class PageLane {
  readonly #memory = new LaneMemory(new SharedArrayBuffer(HEADER_BYTES + DATA_BYTES));
  #busy = false;
  #closed = false;
  /** Calls answered on the lane so far (for tests and benchmarks). */
  answered = 0;

  constructor() {
    pageLanes.add(this);
  }

  /** The buffer to give the worker. */
  get buffer(): SharedArrayBuffer {
    return this.#memory.buffer;
  }

  /**
   * Call before posting a message on the port: the worker serves the lane
   * only once it has received it. Wakes the workers waiting on this page's
   * other lanes too, in case one of them serves the port as well.
   */
  posting(): void {
    Atomics.add(this.#memory.slots, SENT, 1);
    for (const lane of pageLanes) lane.#wake();
  }

  /** Call when posting failed after `posting()`: no message is on its way. */
  notPosted(): void {
    Atomics.sub(this.#memory.slots, SENT, 1);
  }

  #wake(): void {
    const { slots } = this.#memory;
    if (Atomics.compareExchange(slots, STATE, PARKED, WAKE) === PARKED) Atomics.notify(slots, STATE);
  }

  /**
   * Sends `request` on the lane if the worker waits there, nothing else is
   * on it and it fits; `answered(kind, value)` gets the answer (never
   * called for `LANE_BY_MESSAGE`). False: post it instead.
   */
  send(request: unknown, answered: (kind: number, value: unknown) => void): boolean {
    const { slots, codec } = this.#memory;
    if (this.#busy || this.#closed || Atomics.load(slots, STATE) !== PARKED) return false;
    if (codec.write(request) < 0) return false;
    Atomics.store(slots, REQUEST_AFTER, Atomics.load(slots, SENT));
    const seq = Atomics.load(slots, ANSWER_SEQ);
    if (Atomics.compareExchange(slots, STATE, PARKED, REQUEST) !== PARKED) return false;
    Atomics.notify(slots, STATE);
    this.#busy = true;
    this.#await(seq, answered);
    return true;
  }

  #await(seq: number, answered: (kind: number, value: unknown) => void): void {
    const { slots, codec } = this.#memory;
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    // The answer is taken in a task or microtask of its own, never inside `send()`: its caller may be mid-way through something.
    const check = (): void => {
      if (this.#closed) return;
      const wait = waitAsync(slots, ANSWER_SEQ, seq);
      if (wait.async) wait.value.then(take);
      else queueMicrotask(take);
    };
    const take = (): void => {
      if (this.#closed) return;
      if (Atomics.load(slots, ANSWER_SEQ) === seq) {
        check();
        return;
      }
      const kind = Atomics.load(slots, ANSWER_KIND);
      let value: unknown;
      try {
        value = kind === LANE_BY_MESSAGE ? undefined : codec.read();
      } finally {
        this.#busy = false;
      }
      if (kind === LANE_BY_MESSAGE) return;
      this.answered++;
      answered(kind, value);
    };
    check();
  }

  /** Stops using the lane; a call waiting on it is left to its owner (who rejects it). */
  close(): void {
    this.#closed = true;
    pageLanes.delete(this);
    Atomics.notify(this.#memory.slots, ANSWER_SEQ);
  }
}
