import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

/** A child Node process with piped stdio. */
export type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Runs the TypeScript file `script` in a new Node process (through tsx) with `args`. */
export function spawnTsx(script: URL, args: string[]): Child {
  return spawn(process.execPath, ["--import", "tsx", script.pathname, ...args], { stdio: ["pipe", "pipe", "pipe"] });
}

/** Resolves with the child's stdout when it exits with code 0; rejects with its stderr otherwise. */
export function childOutput(child: Child): Promise<string> {
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`child exited with ${code ?? signal}: ${err}`));
    });
  });
}

/** Resolves when the child prints `line` on stdout; rejects if it exits first. */
export function waitForLine(child: Child, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.split("\n").includes(line)) {
        child.stdout.off("data", onData);
        child.off("exit", onExit);
        resolve();
      }
    };
    const onErr = (chunk: Buffer) => {
      err += chunk;
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before "${line}": ${err}`));
    child.stdout.on("data", onData);
    child.stderr.on("data", onErr);
    child.on("exit", onExit);
  });
}
