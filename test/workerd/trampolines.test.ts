import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadNodeSqlite } from "../../worker/node/load-node-sqlite.js";
import { trampolineBytes, trampolineName } from "../../worker/workerd/trampoline-bytes.js";

const dir = new URL("../../worker/workerd/trampolines/", import.meta.url);

describe("workerd trampolines", () => {
  it("builds the same bytes as the glue's own jsFuncToWasm", async () => {
    const sqlite3 = await loadNodeSqlite("optimized");
    const jsFuncToWasm = (sqlite3.wasm as unknown as { jsFuncToWasm(f: () => void, sig: string): unknown })
      .jsFuncToWasm;
    const Original = WebAssembly.Module;
    let recorded: Uint8Array | undefined;
    (WebAssembly as { Module: unknown }).Module = function Module(bytes: Uint8Array) {
      recorded = new Uint8Array(bytes);
      return new Original(bytes as BufferSource);
    };
    try {
      for (const sig of [
        "i(pppp)",
        "i(pp)",
        "i(p)",
        "i(ppp)",
        "i(pppj)",
        "i(pj)",
        "v(p)",
        "v()",
        "d(dd)",
        "j(ij)",
        "ipp",
      ]) {
        recorded = undefined;
        jsFuncToWasm(() => {}, sig);
        expect(recorded, sig).toEqual(trampolineBytes(sig));
        expect(trampolineBytes(trampolineName(sig)), sig).toEqual(trampolineBytes(sig));
      }
    } finally {
      (WebAssembly as { Module: unknown }).Module = Original;
    }
  });

  it("ships each precompiled trampoline with exactly those bytes", () => {
    const files = readdirSync(dir).filter((f) => f.endsWith(".wasm"));
    expect(files.sort()).toEqual(["i_i.wasm", "i_ii.wasm", "i_iii.wasm", "i_iiii.wasm", "i_iiij.wasm", "i_ij.wasm"]);
    for (const file of files) {
      const name = file.replace(/\.wasm$/, "");
      expect(new Uint8Array(readFileSync(new URL(file, dir))), file).toEqual(trampolineBytes(name));
      expect(WebAssembly.validate(trampolineBytes(name) as BufferSource)).toBe(true);
    }
  });
});
