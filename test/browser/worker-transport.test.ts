import { describe, expect, it } from "vitest";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();

describe("worker transport in Chromium", () => {
  it("carries LibsqlError, its codes and RangeError across the worker boundary", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const t = await lib.openWorkerTransport({ storage: "memory", path: "" });
      try {
        await t.main.execute({ sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE)" }, "number");
        await t.main.execute({ sql: "INSERT INTO t(name) VALUES ('a')" }, "number");
        return {
          unique: await lib.thrown(t.main.execute({ sql: "INSERT INTO t(name) VALUES ('a')" }, "number")),
          syntax: await lib.thrown(t.main.execute({ sql: "SELEC 1" }, "number")),
          range: await lib.thrown(t.main.execute({ sql: "SELECT ?", args: [2n ** 70n] }, "number")),
        };
      } finally {
        await t.close();
      }
    });
    expect(result.unique).toMatchObject({
      isLibsqlError: true,
      name: "LibsqlError",
      code: "SQLITE_CONSTRAINT",
      extendedCode: "SQLITE_CONSTRAINT_UNIQUE",
      rawCode: 2067,
    });
    expect(result.unique?.message).toMatch(/^SQLITE_CONSTRAINT: UNIQUE constraint failed: t\.name/);
    expect(result.syntax).toMatchObject({ isLibsqlError: true, code: "SQLITE_ERROR", rawCode: 1 });
    expect(result.range).toMatchObject({ isRangeError: true, isLibsqlError: false, name: "RangeError" });
  });

  it("returns blobs as ArrayBuffers with their bytes", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const t = await window.lib.openWorkerTransport({ storage: "memory", path: "" });
      try {
        const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
        await t.main.execute({ sql: "CREATE TABLE b(v BLOB)" }, "number");
        await t.main.execute({ sql: "INSERT INTO b VALUES (?), (x'00ff')", args: [bytes] }, "number");
        const rs = await t.main.execute({ sql: "SELECT v FROM b ORDER BY length(v) DESC" }, "number");
        const big = window.lib.rows(rs.rows)[0]?.[0];
        const small = window.lib.rows(rs.rows)[1]?.[0];
        return {
          isBuffer: big instanceof ArrayBuffer,
          same: big instanceof ArrayBuffer && new Uint8Array(big).every((v, i) => v === bytes[i]),
          length: big instanceof ArrayBuffer ? big.byteLength : -1,
          small: small instanceof ArrayBuffer ? [...new Uint8Array(small)] : null,
          argumentIntact: bytes.byteLength === 1 << 20,
        };
      } finally {
        await t.close();
      }
    });
    expect(result).toEqual({ isBuffer: true, same: true, length: 1 << 20, small: [0, 255], argumentIntact: true });
  });

  it("rejects calls in flight and later with WORKER_TERMINATED when the page terminates its worker", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const worker = lib.workers.engine();
      const t = await lib.openWorkerTransport({ storage: "memory", path: "", worker });
      const slow = t.main.execute(
        { sql: "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c" },
        "number",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      worker.terminate();
      const inFlight = await lib.thrown(slow);
      const waited = performance.now() - started;
      const later = await lib.thrown(t.main.execute({ sql: "SELECT 1" }, "number"));
      const closing = await lib.thrown(t.close());
      return { inFlight, later, closing, waited };
    });
    expect(result.inFlight).toMatchObject({ isLibsqlError: true, code: "WORKER_TERMINATED" });
    expect(result.later).toMatchObject({ isLibsqlError: true, code: "WORKER_TERMINATED" });
    expect(result.closing).toBeNull();
    console.log("terminate → rejection", Math.round(result.waited), "ms");
    expect(result.waited).toBeLessThan(5000);
  });

  it("rejects calls in flight and later with WORKER_TERMINATED after terminate()", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const t = await lib.openWorkerTransport({ storage: "memory", path: "" });
      const stream = await t.openStream();
      await stream.execute({ sql: "BEGIN" }, "number");
      const slow = stream.execute(
        { sql: "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c" },
        "number",
      );
      t.terminate();
      return {
        inFlight: await lib.thrown(slow),
        later: await lib.thrown(t.main.execute({ sql: "SELECT 1" }, "number")),
        stream: await lib.thrown(stream.execute({ sql: "SELECT 1" }, "number")),
      };
    });
    expect(result.inFlight).toMatchObject({ code: "WORKER_TERMINATED" });
    expect(result.later).toMatchObject({ code: "WORKER_TERMINATED" });
    expect(result.stream).toMatchObject({ code: "WORKER_TERMINATED" });
  });

  it("fails to open with WORKER_TERMINATED when the worker's script cannot load", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const worker = new Worker("./no-such-worker.js", { type: "module" });
      return window.lib.thrown(window.lib.openWorkerTransport({ storage: "memory", path: "", worker }));
    });
    expect(result).toMatchObject({ isLibsqlError: true, code: "WORKER_TERMINATED" });
  });

  it("ends its own worker on close, and leaves a given worker serving other transports (channels and ports)", async () => {
    const page = await browser.open();
    const result = await page.evaluate(async () => {
      const { lib } = window;
      const own = await lib.openWorkerTransport({ storage: "memory", path: "" });
      await own.close();
      const afterOwnClose = await lib.thrown(own.main.execute({ sql: "SELECT 1" }, "number"));

      // a and d talk on channels of the worker's own messages, b on a port of its own.
      const worker = lib.workers.engine();
      let onChannels = 0;
      worker.addEventListener("message", (event) => {
        if (Array.isArray(event.data) && event.data[0] === "libsql-web:channel") onChannels++;
      });
      const a = await lib.openWorkerTransport({ storage: "memory", path: "", worker });
      const b = await lib.openWorkerTransport({ storage: "memory", path: "", worker: lib.connectWorker(worker) });
      const d = await lib.openWorkerTransport({ storage: "memory", path: "", worker });
      await a.main.execute({ sql: "CREATE TABLE t(x)" }, "number");
      await d.main.execute({ sql: "CREATE TABLE t(x)" }, "number");
      // Calls of all three at once, each on its own database: every answer reaches its own caller.
      const mixed = await Promise.all(
        Array.from({ length: 60 }, (_, i) => {
          const t = [a, b, d][i % 3] as typeof a;
          return t.main
            .execute({ sql: "SELECT ?", args: [i] }, "number")
            .then((rs) => window.lib.rows(rs.rows)[0]?.[0]);
        }),
      );
      await a.close();
      const afterClose = await lib.thrown(a.main.execute({ sql: "SELECT 1" }, "number"));
      const bStillWorks = window.lib.rows((await b.main.execute({ sql: "SELECT 42" }, "number")).rows)[0]?.[0];
      const dStillWorks = window.lib.rows(
        (await d.main.execute({ sql: "SELECT count(*) FROM t" }, "number")).rows,
      )[0]?.[0];
      const c = await lib.openWorkerTransport({ storage: "memory", path: "", worker });
      const cWorks = window.lib.rows((await c.main.execute({ sql: "SELECT 7" }, "number")).rows)[0]?.[0];
      await b.close();
      await c.close();
      await d.close();
      worker.terminate();
      return { afterOwnClose, mixed, onChannels, afterClose, bStillWorks, dStillWorks, cWorks };
    });
    expect(result.afterOwnClose).toMatchObject({ code: "WORKER_TERMINATED" });
    expect(result.mixed).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // The answers to a, c and d came on the worker's own channel (40 calls at least, and their opening).
    expect(result.onChannels).toBeGreaterThanOrEqual(40);
    expect(result.afterClose).toMatchObject({ code: "WORKER_TERMINATED" });
    expect(result.bStillWorks).toBe(42);
    expect(result.dStillWorks).toBe(0);
    expect(result.cWorks).toBe(7);
  });
});
