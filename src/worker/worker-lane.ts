import {
  ANSWER_KIND,
  ANSWER_SEQ,
  AWAKE,
  LANE_BY_MESSAGE,
  LaneMemory,
  type LaneTiming,
  PARKED,
  REQUEST,
  REQUEST_AFTER,
  SEEN,
  SENT,
  STATE,
  WAKE,
} from "./shared-lane.js";

/**
 * What the worker's lanes share: calls in flight on any port (the worker
 * waits on a lane only when it has nothing else to do) and when its event
 * loop last ran (it leaves the lanes at least every `sliceMs`).
 */
export const laneClock = {
  inFlight: 0,
  eventLoopRan: 0,
};

/**
 * The worker's side of a shared lane (see `shared-lane.ts`) for one port:
 * after an answer, waits on the lane while the page may call again, and
 * hands each request found there to `serve`, never before a message the
 * page posted ahead of it (calls start in the order the page made them).
 */
export class WorkerLane {
  readonly #memory: LaneMemory;
  readonly #serve: (request: unknown) => void;
  readonly #timing: LaneTiming;
  /** A request on the lane waits for messages posted before it. */
  #deferred = false;

  constructor(buffer: SharedArrayBuffer, timing: LaneTiming, serve: (request: unknown) => void) {
    this.#memory = new LaneMemory(buffer);
    this.#timing = timing;
    this.#serve = serve;
  }

  /** Call for each message received on the port, before handling it. */
  received(): void {
    Atomics.add(this.#memory.slots, SEEN, 1);
  }

  /** Call after handling a message: serves the lane's request if it was waiting for that message. */
  handled(): void {
    if (this.#deferred) this.#take();
  }

  /**
   * Answers the call served from the lane: `value` on the lane under
   * `kind`; or, when it does not fit or `byMessage` (rows went ahead of it
   * by message), `post()` sends it and the lane says so. Then waits on the
   * lane for the next call, if idle.
   */
  answer(kind: number, value: unknown, byMessage: boolean, post: () => void): void {
    const { slots, codec } = this.#memory;
    if (byMessage || codec.write(value) < 0) {
      post();
      kind = LANE_BY_MESSAGE;
    }
    Atomics.store(slots, ANSWER_KIND, kind);
    const park = this.#mayPark();
    Atomics.store(slots, STATE, park ? PARKED : AWAKE);
    Atomics.add(slots, ANSWER_SEQ, 1);
    Atomics.notify(slots, ANSWER_SEQ);
    if (park) this.#park();
  }

  /**
   * Answers a call that came by message with `post()`, then waits on the
   * lane if idle. The lane opens before the answer is posted, so that the
   * page finds it open however soon it calls again.
   */
  answerByMessage(post: () => void): void {
    const park = this.#mayPark() && Atomics.compareExchange(this.#memory.slots, STATE, AWAKE, PARKED) === AWAKE;
    post();
    if (park) this.#park();
  }

  /** True once the worker received every message the page had posted when it counted `sent`. */
  #caughtUp(sent: number): boolean {
    return ((Atomics.load(this.#memory.slots, SEEN) - sent) | 0) >= 0;
  }

  #mayPark(): boolean {
    return (
      laneClock.inFlight === 0 &&
      this.#caughtUp(Atomics.load(this.#memory.slots, SENT)) &&
      performance.now() - laneClock.eventLoopRan < this.#timing.sliceMs
    );
  }

  /** Waits (STATE is PARKED) until a request comes, the page posts a message, or `lingerMs` pass. */
  #park(): void {
    const { slots } = this.#memory;
    const deadline = performance.now() + this.#timing.lingerMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || !this.#caughtUp(Atomics.load(slots, SENT))) {
        const state = Atomics.compareExchange(slots, STATE, PARKED, AWAKE);
        if (state === WAKE) Atomics.store(slots, STATE, AWAKE);
        if (state !== REQUEST) return;
        break;
      }
      Atomics.wait(slots, STATE, PARKED, left);
      const state = Atomics.load(slots, STATE);
      if (state === WAKE) {
        Atomics.store(slots, STATE, AWAKE);
        return;
      }
      if (state === REQUEST) break;
    }
    this.#take();
  }

  /** Serves the request on the lane, unless messages posted before it are still on their way (then `handled()` will). */
  #take(): void {
    this.#deferred = !this.#caughtUp(Atomics.load(this.#memory.slots, REQUEST_AFTER));
    if (!this.#deferred) this.#serve(this.#memory.codec.read());
  }
}
