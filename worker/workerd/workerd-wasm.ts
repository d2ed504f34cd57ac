/// <reference path="./wasm-module.d.ts" />
/**
 * The engine's wasm for workerd, imported as modules so that the platform
 * compiles them when the Worker is deployed (workerd refuses to compile wasm at
 * run time): the engine itself and the glue's precompiled trampolines.
 */
import sqlite from "../../engine/sqlite3.wasm";
import type { WorkerdWasm } from "./load-workerd-sqlite.js";
import i_i from "./trampolines/i_i.wasm";
import i_ii from "./trampolines/i_ii.wasm";
import i_iii from "./trampolines/i_iii.wasm";
import i_iiii from "./trampolines/i_iiii.wasm";
import i_iiij from "./trampolines/i_iiij.wasm";
import i_ij from "./trampolines/i_ij.wasm";

/** The compiled engine and the trampolines its start-up and statements need. */
export const workerdWasm: WorkerdWasm = {
  sqlite,
  trampolines: { i_i, i_ii, i_iii, i_iiii, i_iiij, i_ij },
};
