/** How the next sync response goes wrong. */
export type SyncFault =
  /** The body is cut after `bytes` bytes and the socket destroyed (a server dying mid-response). */
  | { kind: "cut"; bytes: number }
  /** The response is complete but only `bytes` long (a length that is not whole frames, or a short export). */
  | { kind: "truncate"; bytes: number }
  /** One byte of the page data is flipped in every frame (or in the export). */
  | { kind: "corrupt" }
  /** The frames' headers claim page numbers of 0 (not a page). */
  | { kind: "bad-page-number" };

/**
 * Faults for the replica's tests, on `GET /sync/...` and `GET /export/...` responses:
 * each queued fault spoils the next matching response.
 */
export class SyncFaults {
  #queue: { fault: SyncFault; path: "sync" | "export"; skip: number }[] = [];

  /**
   * Spoils the next `GET /sync/...` (or `/export/...`) response, or the one
   * after `skip` good ones. Faults queued for the same path apply in order.
   */
  next(fault: SyncFault, options: { path?: "sync" | "export"; skip?: number } = {}): void {
    this.#queue.push({ fault, path: options.path ?? "sync", skip: options.skip ?? 0 });
  }

  /** Clears pending faults. */
  reset(): void {
    this.#queue = [];
  }

  /** The fault for a response on `path`, if one is pending. */
  take(path: "sync" | "export"): SyncFault | undefined {
    const index = this.#queue.findIndex((f) => f.path === path);
    const entry = this.#queue[index];
    if (!entry) return undefined;
    if (entry.skip > 0) {
      entry.skip--;
      return undefined;
    }
    this.#queue.splice(index, 1);
    return entry.fault;
  }
}

/** `body` as the fault would send it; `cut` is handled by the caller (it needs the socket). */
export function spoil(body: Buffer, fault: SyncFault, frameSize: number): Buffer {
  switch (fault.kind) {
    case "truncate":
      return body.subarray(0, Math.min(body.length, fault.bytes));
    case "corrupt": {
      const copy = Buffer.from(body);
      const step = frameSize > 0 ? frameSize : copy.length;
      for (let at = 100; at < copy.length; at += step) copy[at] = (copy[at] as number) ^ 0xff;
      return copy;
    }
    case "bad-page-number": {
      const copy = Buffer.from(body);
      for (let at = 0; at + frameSize <= copy.length; at += frameSize) copy.writeUInt32BE(0, at);
      return copy;
    }
    default:
      return body;
  }
}
