/**
 * The built package: `npm run build` output imported by its name, the way a
 * user's Node program imports it (Node resolves a package's own name through
 * its `exports` map).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "libsql-web-dist-"));

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts", "build-dist.mjs")], { cwd: root, stdio: "pipe" });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runModule(source: string): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", source], { cwd: root, encoding: "utf8" });
}

describe("the built package", () => {
  it('gives a working client from `import … from "libsql-web"` in Node', () => {
    const out = runModule(`
      import { createClient, LibsqlError, LibsqlBatchError } from "libsql-web";
      const client = createClient({ url: "file:${join(dir, "dist.db")}" });
      await client.execute("CREATE TABLE t(x)");
      await client.execute({ sql: "INSERT INTO t VALUES (?)", args: [41n] });
      const rs = await client.execute("SELECT x + 1 AS y FROM t");
      const error = await client.batch(["INSERT INTO t VALUES (1)", "SELECT * FROM nope"]).catch((e) => e);
      console.log(JSON.stringify({
        y: rs.rows[0].y,
        batchError: error instanceof LibsqlBatchError && error instanceof LibsqlError,
        code: error.code,
        index: error.statementIndex,
      }));
      client.close();
    `);
    expect(JSON.parse(out)).toEqual({ y: 42, batchError: true, code: "SQLITE_ERROR", index: 1 });
  });

  it("does no work at import time", () => {
    const out = runModule(`
      const m = await import("libsql-web");
      // The Emscripten glue defines this global when it is evaluated.
      console.log(JSON.stringify({ exports: Object.keys(m), wasmLoaded: typeof globalThis.sqlite3InitModule !== "undefined" }));
    `);
    const result = JSON.parse(out);
    expect(result.wasmLoaded).toBe(false);
    expect(result.exports).toEqual(
      expect.arrayContaining(["createClient", "LibsqlError", "LibsqlBatchError", "ErrorCode"]),
    );
  });
});
