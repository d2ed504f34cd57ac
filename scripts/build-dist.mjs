#!/usr/bin/env node
// Builds dist/: the TypeScript of src/ and worker/ (two programs: page code and
// worker code see different libs) and the generated engine/ next to them, so
// that relative imports such as worker/node → ../../engine/ hold in dist too.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
if (!existsSync(join(root, "engine", "sqlite3.wasm"))) {
  throw new Error("engine/ is missing: run `npm run build:engine` first");
}
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
for (const project of ["tsconfig.build.json", "worker/tsconfig.build.json"]) {
  execFileSync(process.execPath, [tsc, "-p", join(root, project)], { stdio: "inherit" });
}
cpSync(join(root, "engine"), join(dist, "engine"), { recursive: true });
// The precompiled trampolines workerd imports as wasm modules (tsc copies no .wasm).
cpSync(join(root, "worker", "workerd", "trampolines"), join(dist, "worker", "workerd", "trampolines"), {
  recursive: true,
});
console.log("build-dist: dist/ ready");
