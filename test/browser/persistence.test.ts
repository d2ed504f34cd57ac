import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useBrowser } from "./rig/browser-fixture.js";

const browser = useBrowser();

type Storage = "opfs-sahpool" | "opfs";
/**
 * `rounds` of the crash test: after a crash, the `opfs` VFS's helper worker (a busy loop) keeps the
 * file's access handle until Chromium kills it, about 2 s later, so each `opfs` round costs ~3 s.
 */
const STORAGES: { storage: Storage; coi: boolean; rounds: number }[] = [
  { storage: "opfs-sahpool", coi: false, rounds: 20 },
  { storage: "opfs", coi: true, rounds: 4 },
];

/** Opens `name`, runs `sql` statements in order and returns the last result's rows; closes the transport. */
function run(page: Page, storage: Storage, name: string, sql: string[]): Promise<unknown[][]> {
  return page.evaluate(({ storage, name, sql }) => window.lib.runSql({ storage, path: name }, sql), {
    storage,
    name,
    sql,
  });
}

describe.each(STORAGES)("$storage persistence in Chromium", ({ storage, coi, rounds }) => {
  it("keeps data across a page reload", async () => {
    const page = await browser.open({ coi });
    const name = `reload-${storage}.db`;
    await page.evaluate(
      async ({ storage, name }) => {
        const t = await window.lib.openWorkerTransport({ storage, path: name });
        await t.main.execute({ sql: "CREATE TABLE t(v TEXT)" }, "number");
        await t.main.execute({ sql: "INSERT INTO t VALUES ('before reload')" }, "number");
        // No close: the page goes away with its worker.
      },
      { storage, name },
    );
    await page.reload();
    await page.waitForFunction(() => window.lib !== undefined);
    expect(await run(page, storage, name, ["SELECT v FROM t"])).toEqual([["before reload"]]);
    await page.close();
  });

  it("keeps data across a worker restart and a browser restart", async () => {
    const name = `restart-${storage}.db`;
    let page = await browser.open({ coi });
    await run(page, storage, name, ["CREATE TABLE t(v)", "INSERT INTO t VALUES (1), (2)"]);
    expect(await run(page, storage, name, ["INSERT INTO t VALUES (3)", "SELECT sum(v) FROM t"])).toEqual([[6]]);
    await browser.chromium.restart();
    page = await browser.open({ coi });
    expect(await run(page, storage, name, ["SELECT sum(v), count(*) FROM t"])).toEqual([[6, 3]]);
    await page.close();
  });

  it(`rolls back a transaction cut short by terminating the worker, ${rounds} times in a row`, {
    timeout: 120_000,
  }, async () => {
    const page = await browser.open({ coi });
    const name = `crash-${storage}.db`;
    let committed = 0;
    let finishedBeforeStop = 0;
    for (let round = 0; round < rounds; round++) {
      const result = await page.evaluate(
        async ({ storage, name, round }) => {
          const { lib } = window;
          const worker = lib.workers.engine();
          const t = await lib.openWorkerTransport({ storage, path: name, worker, busyTimeoutMs: 10_000 });
          const one = async (sql: string) => window.lib.rows((await t.main.execute({ sql }, "number")).rows)[0]?.[0];
          await t.main.execute({ sql: "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)" }, "number");
          // Committed ids are 1..n without gaps, so (count, sum, max) tells whether any change of a
          // cut-short transaction (deletes of old rows, new rows) survived.
          const before = {
            count: Number(await one("SELECT count(*) FROM t")),
            sum: Number(await one("SELECT coalesce(sum(id), 0) FROM t")),
            max: Number(await one("SELECT coalesce(max(id), 0) FROM t")),
          };
          // A page cache of 8 pages: the transactions below spill hundreds of pages into the file.
          await t.main.execute({ sql: "PRAGMA cache_size=8" }, "number");
          const rows = (n: number) =>
            `INSERT INTO t(v) SELECT randomblob(1500) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) SELECT i FROM c)`;
          const committing = await t.openStream();
          await committing.execute({ sql: "BEGIN IMMEDIATE" }, "number");
          await committing.execute({ sql: rows(50) }, "number");
          await committing.execute({ sql: "COMMIT" }, "number");
          await committing.close();
          const crashing = await t.openStream();
          await crashing.execute({ sql: "BEGIN IMMEDIATE" }, "number");
          // Rewrites every existing leaf page (the old contents go to the journal, the new ones to the file).
          await crashing.execute({ sql: "DELETE FROM t WHERE id % 2 = 0" }, "number");
          await crashing.execute({ sql: rows(400) }, "number");
          const inFlight = crashing.execute({ sql: rows(400) }, "number");
          // Alternate: the page terminates the Worker itself, or asks the transport to.
          const byPage = round % 2 === 0;
          if (byPage) worker.terminate();
          else t.terminate();
          const commit = crashing.execute({ sql: "COMMIT" }, "number");
          return { before, byPage, inFlight: await lib.thrown(inFlight), commit: await lib.thrown(commit) };
        },
        { storage, name, round },
      );
      expect(result.before, `rows at the start of round ${round}`).toEqual({
        count: committed,
        sum: (committed * (committed + 1)) / 2,
        max: committed,
      });
      const terminated = { isLibsqlError: true, code: "WORKER_TERMINATED" };
      expect(result.commit, `round ${round}`).toMatchObject(terminated);
      if (result.byPage && result.inFlight === null) {
        // The worker was already running that statement: Chromium lets a running task finish before
        // the worker stops, and its answer arrives. The transaction is lost all the same.
        finishedBeforeStop++;
      } else {
        expect(result.inFlight, `round ${round}`).toMatchObject(terminated);
      }
      committed += 50;
    }
    console.log(
      `${storage}: ${finishedBeforeStop} of ${rounds / 2} statements in flight at worker.terminate() finished first`,
    );
    expect(await run(page, storage, name, ["SELECT count(*) FROM t"])).toEqual([[committed]]);
    expect(await run(page, storage, name, ["PRAGMA integrity_check"])).toEqual([["ok"]]);
    await page.close();
  });
});
