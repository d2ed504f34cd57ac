import type { CDPSession, Page } from "playwright-core";

/** One sample of a worker's memory, from CDP `Runtime.getHeapUsage`. */
export interface HeapSample {
  /** JavaScript heap in use (bytes). */
  usedSize: number;
  /** JavaScript heap reserved (bytes). */
  totalSize: number;
  /** ArrayBuffer backing stores outside the wasm memory (bytes; 0 where CDP does not report it). */
  backingStorageSize: number;
}

interface TargetInfo {
  targetId: string;
  type: string;
  title: string;
}

/**
 * Reads the memory of one of a page's dedicated workers over the Chrome
 * DevTools Protocol. Playwright opens CDP sessions on pages only, so this
 * attaches to the worker's target from the page's session (non-flattened)
 * and talks to it with `Target.sendMessageToTarget`.
 */
export class WorkerHeap {
  readonly #cdp: CDPSession;
  readonly #sessionId: string;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  private constructor(cdp: CDPSession, sessionId: string) {
    this.#cdp = cdp;
    this.#sessionId = sessionId;
    cdp.on("Target.receivedMessageFromTarget", (event: { sessionId: string; message: string }) => {
      if (event.sessionId !== this.#sessionId) return;
      const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id as number);
      if (message.error) pending.reject(new Error(message.error.message));
      else pending.resolve(message.result);
    });
  }

  /** Attaches to the page's worker whose name (or URL) `matches`. */
  static async attach(page: Page, matches: (title: string) => boolean): Promise<WorkerHeap> {
    const cdp = await page.context().newCDPSession(page);
    const { targetInfos } = (await cdp.send("Target.getTargets")) as { targetInfos: TargetInfo[] };
    const target = targetInfos.find((t) => t.type === "worker" && matches(t.title));
    if (!target) throw new Error(`no worker target among ${targetInfos.map((t) => t.title).join(", ")}`);
    const { sessionId } = (await cdp.send("Target.attachToTarget", { targetId: target.targetId, flatten: false })) as {
      sessionId: string;
    };
    return new WorkerHeap(cdp, sessionId);
  }

  #send(method: string, params: object = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#cdp
        .send("Target.sendMessageToTarget", {
          sessionId: this.#sessionId,
          message: JSON.stringify({ id, method, params }),
        })
        .catch(reject);
    });
  }

  /** The worker's heap usage now. */
  async sample(): Promise<HeapSample> {
    const usage = (await this.#send("Runtime.getHeapUsage")) as Partial<HeapSample>;
    return {
      usedSize: usage.usedSize ?? 0,
      totalSize: usage.totalSize ?? 0,
      backingStorageSize: usage.backingStorageSize ?? 0,
    };
  }

  /**
   * Bytes of the worker's wasm memories (each `WebAssembly.Memory` found on
   * its heap; the buffers grow and never shrink, so after a workload this is
   * its peak). Walks the heap: not for sampling during a workload.
   */
  async wasmMemoryBytes(): Promise<number> {
    const group = "libsql-web-bench";
    try {
      const { result: prototype } = (await this.#send("Runtime.evaluate", {
        expression: "WebAssembly.Memory.prototype",
        objectGroup: group,
      })) as { result: { objectId: string } };
      const { objects } = (await this.#send("Runtime.queryObjects", {
        prototypeObjectId: prototype.objectId,
        objectGroup: group,
      })) as { objects: { objectId: string } };
      const { result } = (await this.#send("Runtime.callFunctionOn", {
        objectId: objects.objectId,
        functionDeclaration: "function () { return this.reduce((n, m) => n + m.buffer.byteLength, 0); }",
        returnByValue: true,
        objectGroup: group,
      })) as { result: { value: number } };
      return result.value;
    } finally {
      await this.#send("Runtime.releaseObjectGroup", { objectGroup: group });
    }
  }

  /** Runs a full garbage collection in the worker. */
  async collectGarbage(): Promise<void> {
    await this.#send("HeapProfiler.collectGarbage");
  }

  async detach(): Promise<void> {
    await this.#cdp.detach().catch(() => {});
  }
}
