import { describe, expect, it } from "vitest";
import type { CursorChunk, ReceivedRows } from "../../src/proto.js";
import { CursorReadAhead } from "../../src/worker/cursor-read-ahead.js";

type Chunk = CursorChunk<ReceivedRows>;

/**
 * A cursor's fetches as the worker answers them: each request gets the next
 * chunk in the order it was made; the test says when each answer arrives.
 */
class FakeCursor {
  readonly readAhead = new CursorReadAhead<Chunk>();
  readonly requests: { chunk: number; arrive: () => void }[] = [];
  #next = 0;

  constructor(readonly chunks: number) {
    this.readAhead.opened(1, 1);
  }

  /** What `WorkerEngine.fetchCursor` does with the read-ahead. */
  fetch(): Promise<Chunk> {
    const ahead = this.readAhead.take(1);
    if (ahead) return ahead;
    this.readAhead.asked(1);
    return this.#request();
  }

  #request(): Promise<Chunk> {
    const chunk = this.#next++;
    // The worker drops a cursor with its last chunk: a request after it fails there.
    if (chunk >= this.chunks)
      return Promise.reject(new Error(`CURSOR_CLOSED: chunk ${chunk} asked for after the last`));
    return new Promise((resolve) => {
      this.requests.push({
        chunk,
        arrive: () => {
          const done = chunk === this.chunks - 1;
          this.readAhead.arrived(1, done, !done, () => this.#request());
          resolve({ entries: [{ type: "rows", rows: [[chunk]] }], done });
        },
      });
    });
  }

  arrive(chunk: number): void {
    this.requests.find((r) => r.chunk === chunk)?.arrive();
  }
}

const chunkOf = (chunk: Chunk) => (chunk.entries[0] as { rows: number[][] }).rows[0]?.[0];

describe("cursor read-ahead", () => {
  it("keeps chunks asked for ahead when the last one arrives before the caller took them", async () => {
    const cursor = new FakeCursor(4);
    const first = cursor.fetch();
    cursor.arrive(0);
    expect(chunkOf(await first)).toBe(0);
    // Chunks 1-3 were asked for ahead; all arrive, the last included, before the caller takes any.
    expect(cursor.requests.map((r) => r.chunk)).toEqual([0, 1, 2, 3]);
    for (const chunk of [1, 2, 3]) cursor.arrive(chunk);
    const taken = [];
    for (;;) {
      const chunk = await cursor.fetch();
      taken.push(chunkOf(chunk));
      if (chunk.done) break;
    }
    expect(taken).toEqual([1, 2, 3]);
    expect(cursor.requests.length).toBe(4);
  });

  it("keeps order when chunks arrive out of order, and asks for nothing after the last", async () => {
    const cursor = new FakeCursor(5);
    const first = cursor.fetch();
    cursor.arrive(0);
    await first;
    cursor.arrive(3);
    cursor.arrive(2);
    cursor.arrive(1);
    const taken = [];
    for (;;) {
      const next = cursor.fetch();
      for (const r of cursor.requests) r.arrive();
      const chunk = await next;
      taken.push(chunkOf(chunk));
      if (chunk.done) break;
    }
    expect(taken).toEqual([1, 2, 3, 4]);
  });

  it("lets the caller's own request go before anything more is asked for ahead", async () => {
    const cursor = new FakeCursor(10);
    const first = cursor.fetch();
    cursor.arrive(0);
    await first;
    const taken = [];
    for (let i = 0; i < 6; i++) {
      const next = cursor.fetch();
      // The oldest request still out arrives first, as the worker answers in order.
      cursor.requests.find((r) => r.chunk === i + 1)?.arrive();
      taken.push(chunkOf(await next));
    }
    expect(taken).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
