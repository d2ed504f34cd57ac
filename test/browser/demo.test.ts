/**
 * The demo that `npm start` serves (the README's first command): its start
 * script builds and serves the page beside a loopback remote database; a
 * person types SQL and sees the table, the row count and time, or the
 * error's code; the same SQL runs on the remote; the database file can be
 * exported, deleted and imported.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromiumSession, launchChromium } from "./rig/chromium.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts `scripts/start-demo.mjs` on a free port and resolves with the URLs it prints. */
function startDemo(): Promise<{ process: ChildProcess; url: string; remoteUrl: string }> {
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start-demo.mjs"), "--port", "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /libsql-web demo: (\S+) \(remote: (\S+)\)/.exec(output);
      if (match) resolve({ process: child, url: match[1] as string, remoteUrl: match[2] as string });
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.once("exit", (code) => reject(new Error(`the demo exited (${code}) before serving:\n${output}`)));
  });
}

/** Stops the demo with SIGTERM (its servers close and its temporary files go), SIGKILL if it hangs. */
async function stopDemo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Types `sql` into the console and runs it locally or on the remote; waits for the outcome. */
async function run(page: Page, sql: string, where: "local" | "remote" = "local"): Promise<void> {
  await page.locator("#sql").fill(sql);
  await page.locator(where === "local" ? "#run-local" : "#run-remote").click();
  await expect.poll(() => page.locator("#result-count").textContent()).not.toMatch(/^(running…)?$/);
}

async function table(page: Page): Promise<{ head: string[]; rows: string[][] }> {
  return page.locator("#result-table").evaluate((t: HTMLTableElement) => ({
    head: Array.from(t.tHead?.rows[0]?.cells ?? [], (c) => c.textContent ?? ""),
    rows: Array.from(t.tBodies[0]?.rows ?? [], (r) => Array.from(r.cells, (c) => c.textContent ?? "")),
  }));
}

describe("the demo served by npm start", () => {
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  let chromium: ChromiumSession | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    demo = await startDemo();
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(demo.url);
  });

  afterAll(async () => {
    try {
      await chromium?.close();
    } finally {
      if (demo) await stopDemo(demo.process);
    }
  });

  it("runs typed SQL on opfs:demo.db and shows the table, the row count and the time", async () => {
    await expect.poll(() => page.locator("#database-url").textContent()).toBe("opfs:demo.db");
    // Served cross-origin isolated, so that the client's calls can take the shared lane.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await run(
      page,
      "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT); INSERT INTO notes(title) VALUES ('first'), ('second');",
    );
    expect(await page.locator("#result-count").textContent()).toBe("script ran");
    await run(page, "SELECT id, title, NULL AS missing FROM notes ORDER BY id");
    expect(await table(page)).toEqual({
      head: ["id", "title", "missing"],
      rows: [
        ["1", "first", "NULL"],
        ["2", "second", "NULL"],
      ],
    });
    expect(await page.locator("#result-count").textContent()).toBe("2 rows");
    expect(await page.locator("#result-time").textContent()).toMatch(/^\d+\.\d ms$/);
    expect(await page.locator("#result-target").textContent()).toBe("opfs:demo.db");
    await run(page, "UPDATE notes SET title = upper(title)");
    expect(await page.locator("#result-count").textContent()).toBe("2 rows affected");
  });

  it("shows an error's code and message", async () => {
    await run(page, "SELECT * FROM no_such_table");
    expect(await page.locator("#result-error").isVisible()).toBe(true);
    expect(await page.locator("#error-code").textContent()).toBe("SQLITE_ERROR");
    expect(await page.locator("#error-message").textContent()).toContain("no such table: no_such_table");
    expect(await table(page)).toEqual({ head: [], rows: [] });
    await run(page, "INSERT INTO notes(id, title) VALUES (1, 'again')");
    expect(await page.locator("#error-code").textContent()).toBe("SQLITE_CONSTRAINT (SQLITE_CONSTRAINT_PRIMARYKEY)");
  });

  it("runs the vector search example", async () => {
    await page.getByRole("button", { name: "Create vectors" }).click();
    await page.locator("#run-local").click();
    await expect.poll(() => page.locator("#result-count").textContent()).toBe("script ran");
    await page.getByRole("button", { name: "Vector search" }).click();
    expect(await page.locator("#sql").inputValue()).toContain("vector_distance_cos");
    await page.locator("#run-local").click();
    await expect.poll(() => page.locator("#result-count").textContent()).toBe("3 rows");
    const { head, rows } = await table(page);
    expect(head).toEqual(["title", "distance"]);
    expect(rows.map((row) => row[0])).toEqual(["Cats and dogs", "Kittens", "Electric cars"]);
  });

  it("runs the same SQL on the remote database through the same client API", async () => {
    expect(await page.locator("#remote-url").textContent()).toBe(demo?.remoteUrl);
    await run(page, "CREATE TABLE remote_only(x); INSERT INTO remote_only VALUES (20), (22);", "remote");
    await run(page, "SELECT sum(x) AS total FROM remote_only", "remote");
    expect(await page.locator("#result-target").textContent()).toBe(`remote ${demo?.remoteUrl}`);
    expect(await table(page)).toEqual({ head: ["total"], rows: [["42"]] });
    await run(page, "SELECT sum(x) AS total FROM remote_only");
    expect(await page.locator("#error-code").textContent()).toBe("SQLITE_ERROR");
  });

  it("exports the database as a download, deletes it and imports the file again", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export").click()]);
    expect(download.suggestedFilename()).toBe("demo.db");
    const bytes = await readFile(await download.path());
    expect(bytes.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator("#delete").click();
    await expect.poll(() => page.locator("#files-status").textContent()).toBe("Deleted demo.db.");
    await run(page, "SELECT count(*) AS n FROM notes");
    expect(await page.locator("#error-code").textContent()).toBe("SQLITE_ERROR");

    await page
      .locator("#import-file")
      .setInputFiles({ name: "backup.db", mimeType: "application/octet-stream", buffer: bytes });
    await expect.poll(() => page.locator("#files-status").textContent()).toMatch(/^Imported backup\.db/);
    await run(page, "SELECT title FROM notes ORDER BY id");
    expect((await table(page)).rows).toEqual([["FIRST"], ["SECOND"]]);
    expect(problems).toEqual([]);
  });
});
