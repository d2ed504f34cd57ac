import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { withRig } from "./helpers.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./children/native-replica.mjs", import.meta.url));
const TOKEN = "native-replica-token";

type Step = { sync: true } | { exec: string } | { all: string };

/** Runs native libSQL as an embedded replica of `url` in a child process; returns each step's output. */
async function native(path: string, url: string, steps: Step[], token = TOKEN): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [CHILD, path, url, token, JSON.stringify(steps)], {
    timeout: 30_000,
  });
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The test server held to the real client: native libSQL (`libsql` 0.5.29, the
 * engine of `@libsql/client`'s embedded replicas) must replicate from it, and
 * its writes must reach the primary. If it could not, no replica test here
 * would prove anything.
 */
describe("native libSQL replicates from the test server", () => {
  test("bootstrap, incremental pulls, and a write through the replica", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, path }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
      server.db.exec("INSERT INTO t(v, b) VALUES ('a', x'00ff'), ('b', randomblob(5000))");
      const db = path("native.db");
      const first = await native(db, server.url, [{ sync: true }, { all: "SELECT id, v, hex(b) FROM t ORDER BY id" }]);
      expect(first[1]?.rows).toEqual(server.db.prepare("SELECT id, v, hex(b) FROM t ORDER BY id").raw(true).all());
      expect(server.requests.count("/info")).toBeGreaterThanOrEqual(1);
      expect(server.requests.count("/export/1")).toBe(1);

      server.db.exec("INSERT INTO t(v) VALUES ('c')");
      const second = await native(db, server.url, [
        { sync: true },
        { all: "SELECT count(*) FROM t" },
        { exec: "INSERT INTO t(v) VALUES ('from native')" },
        { all: "SELECT v FROM t WHERE v = 'from native'" },
      ]);
      expect(second[1]?.rows).toEqual([[3]]);
      // Read your writes: the native client pulled right after its remote write.
      expect(second[3]?.rows).toEqual([["from native"]]);
      expect(server.db.prepare("SELECT count(*) FROM t WHERE v = 'from native'").raw(true).get()).toEqual([1]);
      expect(server.requests.count("/v3/pipeline")).toBeGreaterThan(0);
    });
  });

  test("walks generations after checkpoints, and old generations stay available", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, path }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO t(v) VALUES ('g1')");
      const db = path("native.db");
      await native(db, server.url, [{ sync: true }]);
      server.db.exec("INSERT INTO t(v) VALUES ('g1 late')");
      expect(sync.checkpoint()).toBe(2);
      server.db.exec("INSERT INTO t(v) VALUES ('g2')");
      expect(sync.checkpoint()).toBe(3);
      server.db.exec("INSERT INTO t(v) VALUES ('g3')");
      const out = await native(db, server.url, [{ sync: true }, { all: "SELECT v FROM t ORDER BY id" }]);
      expect(out[1]?.rows).toEqual([["g1"], ["g1 late"], ["g2"], ["g3"]]);
      expect(server.requests.count(/^\/sync\/1\//)).toBeGreaterThan(0);
      expect(server.requests.count(/^\/sync\/2\//)).toBeGreaterThan(0);
      expect(server.requests.count(/^\/sync\/3\//)).toBeGreaterThan(0);
    });
  });

  test("a fresh native replica bootstraps from a later generation's export", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, sync, path }) => {
      server.db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      server.db.exec("INSERT INTO t(v) SELECT 'row ' || value FROM generate_series(1, 500)");
      sync.checkpoint();
      server.db.exec("DELETE FROM t WHERE id % 2 = 0");
      const out = await native(path("fresh.db"), server.url, [{ sync: true }, { all: "SELECT count(*) FROM t" }]);
      expect(out[1]?.rows).toEqual([[250]]);
      expect(server.requests.count("/export/2")).toBe(1);
    });
  });

  test("a wrong token is refused", async () => {
    await withRig({ authToken: TOKEN }, async ({ server, path }) => {
      await expect(native(path("denied.db"), server.url, [{ sync: true }], "wrong-token")).rejects.toThrow();
      expect(server.requests.entries.find((r) => r.path === "/info")?.status).toBe(401);
    });
  });
});
