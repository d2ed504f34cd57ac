import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { childOutput, makeTempDirs, openFileDb, openNative, spawnChild, waitForLine } from "./helpers.js";

const temp = makeTempDirs();
afterEach(() => temp.cleanup());

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("file databases shared by several processes", () => {
  it("keeps every row and a sound file when processes write at the same time", async () => {
    const path = join(temp.make(), "shared.db");
    const setup = await openFileDb(path);
    await setup.run("CREATE TABLE t(id INTEGER PRIMARY KEY, worker INTEGER, n INTEGER, UNIQUE(worker, n))");
    await setup.close();

    const workers = 3;
    const transactions = 100;
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        childOutput(spawnChild(["insert", path, String(w), String(transactions)])),
      ),
    );
    // Odd transactions insert three rows, even ones one.
    const perWorker = (transactions / 2) * 1 + (transactions / 2) * 3;
    for (const out of outputs) expect(out).toMatch(new RegExp(`^done ${perWorker} \\d+\\n$`));

    const db = await openFileDb(path);
    expect(await db.value("SELECT count(*) FROM t")).toBe(workers * perWorker);
    expect(await db.value("SELECT count(DISTINCT worker) FROM t")).toBe(workers);
    expect(await db.value("PRAGMA integrity_check")).toBe("ok");
    await db.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("rolls back a transaction whose process was killed mid-way, every time", async () => {
    const path = join(temp.make(), "crash.db");
    const batch = 100;
    const rounds = 10;
    for (let round = 1; round <= rounds; round++) {
      const child = spawnChild(["crash", path, String(batch)]);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        await waitForLine(child, "committed");
        const committed = sha(path);
        child.stdin.write("go\n");
        await waitForLine(child, "inflight");
        // The transaction has reached the file: pages spilled, the journal holds the originals.
        expect(existsSync(`${path}-journal`)).toBe(true);
        expect(sha(path)).not.toBe(committed);
      } finally {
        child.kill("SIGKILL");
        await exited;
      }
      expect(existsSync(`${path}.lock`)).toBe(true);

      const db = await openFileDb(path);
      expect(await db.value("SELECT count(*) FROM t")).toBe(round * batch);
      expect(await db.value("PRAGMA integrity_check")).toBe("ok");
      await db.close();
      expect(existsSync(`${path}-journal`)).toBe(false);
      expect(existsSync(`${path}.lock`)).toBe(false);
    }

    const native = openNative("better-sqlite3", path);
    try {
      expect(native.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([rounds * batch]);
      expect(native.prepare("PRAGMA integrity_check").raw(true).get()).toEqual(["ok"]);
    } finally {
      native.close();
    }
  });
});
