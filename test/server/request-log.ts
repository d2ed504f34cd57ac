/** One HTTP request the server received; headers (and so tokens) are never kept. */
export interface RequestRecord {
  method: string;
  path: string;
  /** The response status, once the response was sent. */
  status: number | undefined;
}

/** Every request a test server received, for tests that count round trips. */
export class RequestLog {
  /** The records, oldest first. */
  readonly entries: RequestRecord[] = [];

  /** Number of requests, optionally only those whose path equals or matches `path`. */
  count(path?: string | RegExp): number {
    if (path === undefined) return this.entries.length;
    return this.entries.filter((r) => (typeof path === "string" ? r.path === path : path.test(r.path))).length;
  }

  /** Forgets every record. */
  clear(): void {
    this.entries.length = 0;
  }

  /** Adds a record and returns it (its status is filled in later). */
  add(method: string, path: string): RequestRecord {
    const record: RequestRecord = { method, path, status: undefined };
    this.entries.push(record);
    return record;
  }
}
