import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the remote entry", () => {
  it("bundles for a browser/edge runtime with no wasm, no Worker, no OPFS and no Node code", async () => {
    const result = await build({
      entryPoints: [`${root}src/remote.ts`],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => /(^|\/)(worker|engine)\//.test(path) || /comlink|node_modules/.test(path))).toEqual(
      [],
    );
    const code = result.outputFiles[0]!.text;
    for (const word of ["WebAssembly", "new Worker", "navigator.storage", "createSyncAccessHandle", "node:"]) {
      expect(code, word).not.toContain(word);
    }
    // Small enough for an edge bundle (the wasm engine alone is ~1.6 MB).
    expect(code.length).toBeLessThan(80_000);
  });
});
