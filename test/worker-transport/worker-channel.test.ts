import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CHANNEL, type ChannelPort, ChannelRoutes, WorkerChannels } from "../../src/worker/worker-channel.js";

/**
 * A page's routes and a worker's channels joined by a real `MessageChannel`
 * standing in for the worker's own messages (Node has no web `Worker`).
 */
function joined() {
  const wire = new MessageChannel();
  const served: ChannelPort[] = [];
  const page = new ChannelRoutes((message, transfer) => wire.port1.postMessage(message, transfer as never));
  const worker = new WorkerChannels(
    (message, transfer) => wire.port2.postMessage(message, transfer as never),
    (port) => served.push(port),
  );
  const unrouted: unknown[] = [];
  wire.port1.on("message", (data) => page.receive(data) || unrouted.push(data));
  wire.port2.on("message", (data) => worker.receive(data) || unrouted.push(data));
  const open = (channel: number) => {
    wire.port1.postMessage({ "libsql-web:channel-connect": channel });
    return page.open(channel);
  };
  return { wire, served, open, unrouted };
}

/** The next `n` messages `port` receives. */
function received(port: ChannelPort, n: number): Promise<unknown[]> {
  const out: unknown[] = [];
  return new Promise((resolve) => {
    port.addEventListener("message", {
      handleEvent: (event) => {
        out.push((event as MessageEvent).data);
        if (out.length === n) resolve(out);
      },
    });
  });
}

const wires: MessageChannel[] = [];
afterEach(() => {
  for (const wire of wires.splice(0)) wire.port1.close();
});

describe("channels on a worker's own messages", () => {
  it("route each message to its own channel, in order, both ways", async () => {
    const { wire, served, open } = joined();
    wires.push(wire);
    const a = open(1);
    const b = open(2);
    for (let i = 0; i < 5; i++) {
      a.postMessage(["a", i]);
      b.postMessage({ b: i });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(served).toHaveLength(2);
    const [wa, wb] = served as [ChannelPort, ChannelPort];
    const atA = received(wa, 5);
    const atB = received(wb, 5);
    // Nothing was listening yet on the worker's side: messages that came before are not replayed.
    a.postMessage("late-a");
    wb.postMessage("to-b");
    expect(await received(b, 1)).toEqual(["to-b"]);
    for (let i = 0; i < 5; i++) a.postMessage(i);
    expect(await atA).toEqual(["late-a", 0, 1, 2, 3]);
    for (let i = 0; i < 5; i++) b.postMessage(i);
    expect(await atB).toEqual([0, 1, 2, 3, 4]);
  });

  it("stop a closed channel only, and leave other messages to their owner", async () => {
    const { wire, served, open, unrouted } = joined();
    wires.push(wire);
    const a = open(1);
    const b = open(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [wa, wb] = served as [ChannelPort, ChannelPort];
    let toA = 0;
    let fromA = 0;
    a.addEventListener("message", () => toA++);
    wa.addEventListener("message", () => fromA++);
    a.close();
    // Sent after the page closed its end: dropped there, and a closed end sends nothing.
    wa.postMessage("after close");
    a.postMessage("from a closed end");
    const atB = received(wb, 1);
    b.postMessage("still open");
    expect(await atB).toEqual(["still open"]);
    expect(toA).toBe(0);
    expect(fromA).toBe(0);
    wire.port1.postMessage({ other: "message" });
    wire.port2.postMessage([CHANNEL.toUpperCase(), 1, "not ours"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unrouted).toEqual([{ other: "message" }, [CHANNEL.toUpperCase(), 1, "not ours"]]);
  });

  it("keep two copies of this code on one page apart (channel numbers are random)", async () => {
    const { wire, served } = joined();
    wires.push(wire);
    // A second copy of the page's side, listening on the same worker.
    const other = new ChannelRoutes((message, transfer) => wire.port1.postMessage(message, transfer as never));
    wire.port1.on("message", (data) => other.receive(data));
    const mine = new ChannelRoutes((message, transfer) => wire.port1.postMessage(message, transfer as never));
    wire.port1.on("message", (data) => mine.receive(data));
    const ends = [mine, other].map((routes) => {
      const channel = routes.unused();
      wire.port1.postMessage({ "libsql-web:channel-connect": channel });
      return routes.open(channel);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(served).toHaveLength(2);
    const heard = ends.map((end) => received(end, 1));
    for (const [i, port] of served.entries()) port.postMessage(`to ${i}`);
    expect(await Promise.all(heard)).toEqual([["to 0"], ["to 1"]]);
  });

  it("run every listener even when one throws, and report its error", () => {
    const reported: unknown[] = [];
    vi.stubGlobal("reportError", (error: unknown) => reported.push(error));
    try {
      const routes = new ChannelRoutes(() => {});
      const port = routes.open(1);
      const heard: unknown[] = [];
      port.addEventListener("message", () => {
        throw new Error("listener failed");
      });
      port.addEventListener("message", (event) => heard.push((event as MessageEvent).data));
      expect(routes.receive([CHANNEL, 1, "hello"])).toBe(true);
      expect(heard).toEqual(["hello"]);
      expect(reported).toEqual([new Error("listener failed")]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("move transferred buffers with the message", async () => {
    const { wire, served, open } = joined();
    wires.push(wire);
    const a = open(7);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const at = received(served[0] as ChannelPort, 1);
    const bytes = new Uint8Array([1, 2, 3]);
    a.postMessage(bytes, [bytes.buffer]);
    expect(bytes.byteLength).toBe(0);
    expect(Array.from((await at)[0] as Uint8Array)).toEqual([1, 2, 3]);
  });
});
