import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Every TypeScript file under `dir`, as paths relative to the repository. */
async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

describe("comlink's boundary", () => {
  it("is imported by the worker's entry and the page's worker transport only", async () => {
    const importers: string[] = [];
    for (const path of [...(await sources("src")), ...(await sources("worker"))]) {
      const text = await readFile(join(root, path), "utf8");
      if (/\bfrom\s+["']comlink["']|\bimport\s*\(\s*["']comlink["']\s*\)/.test(text)) importers.push(path);
    }
    expect(importers.sort()).toEqual(["src/worker/worker-engine.ts", "worker/main.ts"]);
  });
});
