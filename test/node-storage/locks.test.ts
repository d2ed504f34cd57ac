import { spawn } from "node:child_process";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DotLock, sweepOwnerFiles } from "../../worker/node/dot-lock.js";
import { FileLock, type LockHolder, LockLevel } from "../../worker/node/file-lock.js";
import { makeTempDirs } from "./helpers.js";

const temp = makeTempDirs();
afterEach(() => temp.cleanup());

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("DotLock", () => {
  it("is exclusive between holders and records the owner", () => {
    const path = join(temp.make(), "x.db.lock");
    const a = new DotLock(path);
    const b = new DotLock(path);
    expect(a.tryAcquire()).toBe(true);
    expect(readFileSync(path, "utf8")).toMatch(new RegExp(`^${process.pid}\\n[0-9a-f]{24}\\n.+\\n$`));
    expect(b.tryAcquire()).toBe(false);
    expect(b.heldByOther()).toBe(true);
    expect(a.heldByOther()).toBe(false);
    a.release();
    expect(existsSync(path)).toBe(false);
    expect(b.heldByOther()).toBe(false);
    expect(b.tryAcquire()).toBe(true);
    b.release();
  });

  it("breaks the lock of a dead process, once", async () => {
    const path = join(temp.make(), "x.db.lock");
    writeFileSync(path, `${await deadPid()}\nstale\n${hostname()}\n`);
    const a = new DotLock(path);
    const b = new DotLock(path);
    expect(a.heldByOther()).toBe(false);
    expect(a.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    a.release();
  });

  it("sweeps the owner files that processes killed before removing them left, and only those", async () => {
    const dir = temp.make();
    const path = join(dir, "x.db.lock");
    const owner = (pid: number, host = hostname()) => `${pid}\n${"ab".repeat(12)}\n${host}\n`;
    const gone = await deadPid();
    const dead = join(dir, `x.db.lock.${gone}.${"1".repeat(24)}`);
    // Killed before it wrote its owner line: the PID in its name says whose it is.
    const empty = join(dir, `x.db.lock.${gone}.${"5".repeat(24)}`);
    const emptyLive = join(dir, `x.db.lock.${process.ppid}.${"6".repeat(24)}`);
    // As earlier versions named them, without the PID.
    const older = join(dir, `x.db.lock.${"7".repeat(24)}`);
    const live = join(dir, `x.db.lock.${process.ppid}.${"2".repeat(24)}`);
    const foreign = join(dir, `x.db.lock.${gone}.${"3".repeat(24)}`);
    const other = join(dir, `y.db.lock.${gone}.${"4".repeat(24)}`);
    const unrelated = join(dir, "x.db.lock.notes");
    writeFileSync(dead, owner(gone));
    writeFileSync(empty, "");
    writeFileSync(emptyLive, "");
    writeFileSync(older, owner(gone));
    writeFileSync(live, owner(process.ppid));
    writeFileSync(foreign, owner(gone, "some-other-host"));
    writeFileSync(other, owner(gone));
    writeFileSync(unrelated, owner(gone));
    const lock = new DotLock(path);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
    expect([dead, empty, emptyLive, older, live, foreign, other, unrelated].map(existsSync)).toEqual([
      false,
      false,
      true,
      false,
      true,
      true,
      true,
      true,
    ]);
    sweepOwnerFiles(join(dir, "y.db.lock"));
    expect(existsSync(other)).toBe(false);
    // A folder that does not exist has nothing to sweep.
    expect(() => sweepOwnerFiles(join(dir, "missing", "z.db.lock"))).not.toThrow();
  });

  it("respects a lock from another host and a half-written one until it is old", async () => {
    const dir = temp.make();
    const foreign = join(dir, "foreign.lock");
    writeFileSync(foreign, `${await deadPid()}\nx\nsome-other-host\n`);
    expect(new DotLock(foreign).tryAcquire()).toBe(false);

    const unfinished = join(dir, "unfinished.lock");
    writeFileSync(unfinished, "");
    const lock = new DotLock(unfinished);
    expect(lock.tryAcquire()).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(unfinished, old, old);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
  });
});

describe("FileLock", () => {
  const holders = (n: number): LockHolder[] => Array.from({ length: n }, () => ({ level: LockLevel.NONE }));

  it("follows SQLite's levels between handles of one realm, and takes the dot lock while any holds SHARED", () => {
    const db = join(temp.make(), "x.db");
    const lock = FileLock.attach(db);
    const [a, b, c] = holders(3) as [LockHolder, LockHolder, LockHolder];
    const outsider = new DotLock(`${db}.lock`);

    expect(lock.lock(a, LockLevel.SHARED)).toBe("granted");
    expect(outsider.tryAcquire()).toBe(false);
    expect(lock.lock(b, LockLevel.SHARED)).toBe("granted");
    expect(lock.lock(a, LockLevel.RESERVED)).toBe("granted");
    expect(lock.reservedByOther(b)).toBe(true);
    expect(lock.reservedByOther(a)).toBe(false);
    expect(lock.lock(b, LockLevel.RESERVED)).toBe("busy-here");
    // b still reads: a must wait (PENDING) for EXCLUSIVE, and new readers are kept out meanwhile.
    expect(lock.lock(a, LockLevel.EXCLUSIVE)).toBe("busy-here");
    expect(a.level).toBe(LockLevel.PENDING);
    expect(lock.lock(c, LockLevel.SHARED)).toBe("busy-here");
    lock.unlock(b, LockLevel.NONE);
    expect(lock.lock(a, LockLevel.EXCLUSIVE)).toBe("granted");
    lock.unlock(a, LockLevel.SHARED);
    expect(lock.reservedByOther(b)).toBe(false);
    expect(lock.lock(c, LockLevel.SHARED)).toBe("granted");
    lock.unlock(c, LockLevel.NONE);
    expect(outsider.tryAcquire()).toBe(false);
    lock.unlock(a, LockLevel.NONE);
    expect(existsSync(`${db}.lock`)).toBe(false);
    lock.detach();
  });

  it("reports another process's lock as busy elsewhere, and as a possible writer", () => {
    const db = join(temp.make(), "x.db");
    const other = new DotLock(`${db}.lock`);
    expect(other.tryAcquire()).toBe(true);
    const lock = FileLock.attach(db);
    const [a] = holders(1) as [LockHolder];
    expect(lock.lock(a, LockLevel.SHARED)).toBe("busy-elsewhere");
    expect(lock.reservedByOther(a)).toBe(true);
    other.release();
    expect(lock.reservedByOther(a)).toBe(false);
    expect(lock.lock(a, LockLevel.SHARED)).toBe("granted");
    lock.unlock(a, LockLevel.NONE);
    lock.detach();
  });
});
