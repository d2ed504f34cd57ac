import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JournalRecordTracker } from "../../worker/crypto/journal-record-tracker.js";
import { WxAes256CbcCodec } from "../../worker/crypto/wx-aes256cbc-codec.js";
import { decryptFile, nativeRow, openNative, plainRow, tempDir } from "./crypto-fixtures.js";

/**
 * How the rule is tested:
 * - read side, on a real hot journal: a child process runs native libSQL
 *   (`encryptionKey`) with a 10-page cache, rewrites every row inside one
 *   transaction (so the cache spills and the journal gets several segments)
 *   and is SIGKILLed before COMMIT. The journal is then read with the exact
 *   call sequence of SQLite's `pager_playback` (super-journal probe, header
 *   fields, then pgno/image/checksum per record) through the tracker. Every
 *   image it recognises is decrypted and must match SQLite's own checksum of
 *   the plaintext, re-encrypt byte for byte, and, written back, roll the
 *   database back to exactly what native libSQL's own recovery gives;
 * - write side: the call sequence `pager.c` issues to write that journal (and
 *   synthetic journals with sahpool's 4096-byte sectors, pages smaller than
 *   sectors, and a record ending exactly on a sector boundary) must make the
 *   tracker flag exactly the page images, where SQLite3 Multiple Ciphers'
 *   rule and the offset-only rule flag journal headers.
 */

const KEY = "journal-test-key";
const MAGIC = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

type Call = { op: "read" | "write"; offset: number; bytes: Uint8Array };
type Image = { offset: number; pageNo: number };

const be32 = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u32 = (n: number) => Uint8Array.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

/** SQLite's `pager_cksum`: the initial value plus every 200th byte from the end. */
function journalChecksum(init: number, page: Uint8Array): number {
  let sum = init;
  for (let i = page.length - 200; i > 0; i -= 200) sum = (sum + page[i]!) >>> 0;
  return sum;
}

interface Segment {
  header: number;
  declaredRecords: number;
  cksumInit: number;
  dbSize: number;
  records: { offset: number; pageNo: number }[];
}

/** Splits a journal into segments; a segment's records are all those written, synced (nRec) or not. */
function parseJournal(journal: Uint8Array) {
  const sectorSize = be32(journal, 20);
  const pageSize = be32(journal, 24);
  const recordSize = pageSize + 8;
  const segments: Segment[] = [];
  let header = 0;
  while (header + sectorSize <= journal.length && MAGIC.every((b, i) => journal[header + i] === b)) {
    const declaredRecords = be32(journal, header + 8);
    const first = header + sectorSize;
    const count =
      declaredRecords === 0 || declaredRecords === 0xffffffff
        ? Math.floor((journal.length - first) / recordSize)
        : declaredRecords;
    const records = Array.from({ length: count }, (_, i) => {
      const offset = first + i * recordSize;
      return { offset, pageNo: be32(journal, offset) };
    });
    segments.push({
      header,
      declaredRecords,
      cksumInit: be32(journal, header + 12),
      dbSize: be32(journal, header + 16),
      records,
    });
    const end = first + count * recordSize;
    header = Math.ceil(end / sectorSize) * sectorSize;
  }
  return { sectorSize, pageSize, segments };
}

/** The read calls of SQLite's hot-journal playback, in order. */
function playbackReads(journal: Uint8Array, parsed: ReturnType<typeof parseJournal>): Call[] {
  const calls: Call[] = [];
  const read = (offset: number, length: number) =>
    calls.push({ op: "read", offset, bytes: journal.subarray(offset, offset + length) });
  read(journal.length - 16, 4); // readSuperJournal: the name length, which is not plausible here
  parsed.segments.forEach((segment, index) => {
    read(segment.header, 8);
    for (const field of index === 0 ? [8, 12, 16, 20, 24] : [8, 12, 16]) read(segment.header + field, 4);
    if (segment.declaredRecords === 0) return; // a hot journal's unsynced segment is not played back
    for (const record of segment.records) {
      read(record.offset, 4);
      read(record.offset + 4, parsed.pageSize);
      read(record.offset + 4 + parsed.pageSize, 4);
    }
  });
  return calls;
}

/** The calls `pager.c` makes to write a journal with these segments (not in no-sync mode). */
function journalWrites(
  pageSize: number,
  sectorSize: number,
  segments: { header: number; records: { offset: number; pageNo: number; checksum?: number }[] }[],
  content?: Uint8Array,
  withSync = true,
): { calls: Call[]; images: Image[] } {
  const calls: Call[] = [];
  const images: Image[] = [];
  const chunk = Math.min(pageSize, sectorSize);
  segments.forEach((segment, index) => {
    if (index > 0 && withSync) {
      // syncJournal(): probe the next header slot, then rewrite magic + nRec of the current header.
      calls.push({ op: "read", offset: segment.header, bytes: new Uint8Array(8) });
      calls.push({ op: "write", offset: segments[index - 1]!.header, bytes: new Uint8Array(12) });
    }
    for (let at = 0; at < sectorSize; at += chunk) {
      const bytes = content?.slice(segment.header + at, segment.header + at + chunk) ?? new Uint8Array(chunk);
      if (at === 0 && content === undefined)
        bytes.set([...MAGIC, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 9, ...u32(sectorSize), ...u32(pageSize)]);
      calls.push({ op: "write", offset: segment.header + at, bytes });
    }
    for (const record of segment.records) {
      const image = content?.subarray(record.offset + 4, record.offset + 4 + pageSize) ?? new Uint8Array(pageSize);
      calls.push({ op: "write", offset: record.offset, bytes: u32(record.pageNo) });
      calls.push({ op: "write", offset: record.offset + 4, bytes: image });
      calls.push({ op: "write", offset: record.offset + 4 + pageSize, bytes: u32(record.checksum ?? record.pageNo) });
      images.push({ offset: record.offset + 4, pageNo: record.pageNo });
    }
  });
  return { calls, images };
}

/** What a rule flags as page images: offset and page number of each flagged call. */
type Rule = (calls: Call[], pageSize: number) => Image[];

const trackerRule: Rule = (calls, pageSize) => {
  const tracker = new JournalRecordTracker();
  const flagged: Image[] = [];
  for (const call of calls) {
    const pageNo = tracker.observe(call.offset, call.bytes, pageSize);
    if (pageNo !== 0) flagged.push({ offset: call.offset, pageNo });
  }
  return flagged;
};

/** SQLite3 Multiple Ciphers 1.8.1 (`mcWriteMainJournal`): any page-sized write after any 4-byte write. */
const sqlite3mcRule: Rule = (calls, pageSize) => {
  let pageNo = 0;
  const flagged: Image[] = [];
  for (const call of calls.filter((c) => c.op === "write")) {
    if (call.bytes.length === pageSize && pageNo !== 0) flagged.push({ offset: call.offset, pageNo });
    else if (call.bytes.length === 4) pageNo = be32(call.bytes, 0);
  }
  return flagged;
};

/** Offset only: a page-sized call exactly 4 bytes after the last 4-byte call. */
const offsetOnlyRule: Rule = (calls, pageSize) => {
  let last = { offset: -1, pageNo: 0 };
  const flagged: Image[] = [];
  for (const call of calls) {
    if (call.bytes.length === pageSize && call.offset === last.offset + 4)
      flagged.push({ offset: call.offset, pageNo: last.pageNo });
    else if (call.bytes.length === 4) last = { offset: call.offset, pageNo: be32(call.bytes, 0) };
  }
  return flagged;
};

/** A journal laid out as SQLite would: records of `counts[i]` pages per segment. */
function syntheticJournal(
  pageSize: number,
  sectorSize: number,
  counts: number[],
  pageNo: (i: number) => number,
  withSync = true,
) {
  const segments: { header: number; records: { offset: number; pageNo: number; checksum: number }[] }[] = [];
  let header = 0;
  let n = 0;
  for (const count of counts) {
    const first = header + sectorSize;
    const records = Array.from({ length: count }, (_, i) => ({
      offset: first + i * (pageSize + 8),
      pageNo: pageNo(n++),
      checksum: (n * 2654435761) >>> 0,
    }));
    segments.push({ header, records });
    header = Math.ceil((first + count * (pageSize + 8)) / sectorSize) * sectorSize;
  }
  return journalWrites(pageSize, sectorSize, segments, undefined, withSync);
}

describe("rollback-journal page images", () => {
  let dir: string;
  let remove: () => void;
  let committed: Record<string, unknown>;
  let db: Uint8Array;
  let journal: Uint8Array;
  const summarySql = "SELECT count(*) AS n, sum(length(y)) AS bytes, max(y) AS last FROM t";

  beforeAll(() => {
    ({ dir, remove } = tempDir());
    const path = join(dir, "crash.db");
    const setup = openNative(path, KEY);
    setup.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, y TEXT);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
      INSERT INTO t SELECT i, 'row-' || i || '-' || hex(randomblob(40)) FROM n;`);
    committed = nativeRow(setup, summarySql);
    setup.close();
    const child = `
      const Database = require("libsql");
      const db = new Database(process.argv[1], { encryptionKey: process.argv[2] });
      db.exec("PRAGMA cache_size = 10");
      db.exec("BEGIN");
      db.exec("UPDATE t SET y = y || '-changed'");
      db.exec("INSERT INTO t(y) VALUES ('a'), ('b'), ('c'), ('d'), ('e'), ('f')");
      process.kill(process.pid, "SIGKILL");`;
    const run = spawnSync(process.execPath, ["-e", child, path, KEY], { cwd: process.cwd(), encoding: "utf8" });
    expect(run.signal, run.stderr).toBe("SIGKILL");
    expect(existsSync(`${path}-journal`)).toBe(true);
    db = new Uint8Array(readFileSync(path));
    journal = new Uint8Array(readFileSync(`${path}-journal`));
  });
  afterAll(() => remove());

  it("reads a native hot journal: exactly the images, each decrypting to SQLite's checksum", () => {
    const parsed = parseJournal(journal);
    expect(parsed.pageSize).toBe(4096);
    expect(parsed.segments.length).toBeGreaterThan(2); // the cache spilled: several journal headers
    const codec = WxAes256CbcCodec.fromKey(KEY);
    const calls = playbackReads(journal, parsed);
    const played = parsed.segments.filter((s) => s.declaredRecords !== 0);
    const expected = played.flatMap((s) => s.records.map((r) => ({ offset: r.offset + 4, pageNo: r.pageNo })));
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.some((r) => r.pageNo === 1)).toBe(true);
    expect(trackerRule(calls, 4096)).toEqual(expected);
    // The journal header's page size wins over a database page size that changed since.
    expect(trackerRule(calls, 8192)).toEqual(expected);

    const plainDb = decryptFile(codec, db);
    const rolledBack = plainDb.slice(0, played[0]!.dbSize * 4096);
    for (const segment of played) {
      for (const record of segment.records) {
        const cipher = journal.subarray(record.offset + 4, record.offset + 4 + 4096);
        const plain = new Uint8Array(4096);
        codec.decryptPage(record.pageNo, cipher, plain);
        expect(journalChecksum(segment.cksumInit, plain)).toBe(be32(journal, record.offset + 4 + 4096));
        const again = new Uint8Array(4096);
        codec.encryptPage(record.pageNo, plain, again);
        expect(Buffer.from(again).equals(Buffer.from(cipher))).toBe(true);
        if (record.pageNo <= played[0]!.dbSize) rolledBack.set(plain, (record.pageNo - 1) * 4096);
      }
    }
    expect(plainRow(dir, rolledBack, summarySql)).toEqual(committed);

    // Native libSQL's own recovery of the same pair gives the same database, byte for byte.
    const copy = join(dir, "native-recovery");
    mkdirSync(copy);
    copyFileSync(join(dir, "crash.db"), join(copy, "crash.db"));
    copyFileSync(join(dir, "crash.db-journal"), join(copy, "crash.db-journal"));
    const native = openNative(join(copy, "crash.db"), KEY);
    expect(nativeRow(native, summarySql)).toEqual(committed);
    native.close();
    expect(existsSync(join(copy, "crash.db-journal"))).toBe(false);
    const recovered = decryptFile(codec, new Uint8Array(readFileSync(join(copy, "crash.db"))));
    expect(Buffer.from(recovered).equals(Buffer.from(rolledBack))).toBe(true);
  });

  it("flags exactly the images in the writes that made the native journal", () => {
    const parsed = parseJournal(journal);
    const { calls, images } = journalWrites(parsed.pageSize, parsed.sectorSize, parsed.segments, journal);
    expect(trackerRule(calls, parsed.pageSize)).toEqual(images);
    expect(trackerRule(calls, 1024)).toEqual(images);
  });
});

describe("rollback-journal page images in synthetic journals", () => {
  it("with sahpool's 4096-byte sectors and pages, leaves headers alone where SQLite3MC's rule encrypts them", () => {
    const { calls, images } = syntheticJournal(4096, 4096, [3, 5, 2], (i) => i + 2);
    expect(trackerRule(calls, 4096)).toEqual(images);
    expect(offsetOnlyRule(calls, 4096)).toEqual(images);
    const loose = sqlite3mcRule(calls, 4096);
    expect(loose.length).toBe(images.length + 2); // the two later headers
  });

  it("when a segment ends exactly on a sector boundary, where the offset-only rule encrypts the next header", () => {
    // 4096 + 512 × 4104 = 514 × 4096: the second header follows the last checksum directly.
    const { calls, images } = syntheticJournal(4096, 4096, [512, 3], (i) => (i % 900) + 2);
    expect(trackerRule(calls, 4096)).toEqual(images);
    expect(offsetOnlyRule(calls, 4096).length).toBe(images.length + 1);
  });

  it("even with nothing between the last checksum and an aligned header (the checksum is not a page number)", () => {
    // SQLite rewrites nRec before each new header; a VFS that hid those calls would leave only this rule.
    const { calls, images } = syntheticJournal(4096, 4096, [512, 3], (i) => (i % 900) + 2, false);
    expect(trackerRule(calls, 4096)).toEqual(images);
    expect(offsetOnlyRule(calls, 4096).length).toBe(images.length + 1);
  });

  it("with pages smaller than sectors (several page-sized header writes per header)", () => {
    const { calls, images } = syntheticJournal(1024, 4096, [4, 7, 1], (i) => i + 1);
    expect(trackerRule(calls, 1024)).toEqual(images);
  });

  it("never flags the lock-byte page or page 0", () => {
    const lockPage = Math.floor(0x40000000 / 4096) + 1;
    const { calls } = syntheticJournal(4096, 512, [3], (i) => [0, lockPage, 7][i]!);
    expect(trackerRule(calls, 4096)).toEqual([{ offset: 512 + 2 * 4104 + 4, pageNo: 7 }]);
  });

  it("holds for any page size, sector size and segment lengths", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 16 }),
        fc.integer({ min: 9, max: 16 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        (pageBits, sectorBits, counts, seed) => {
          const pageSize = 1 << pageBits;
          const lockPage = Math.floor(0x40000000 / pageSize) + 1;
          const pageNo = (i: number) => {
            const n = ((seed + i * 7919) % 100000) + 1;
            return n === lockPage ? n + 1 : n;
          };
          const { calls, images } = syntheticJournal(pageSize, 1 << sectorBits, counts, pageNo);
          expect(trackerRule(calls, pageSize)).toEqual(images);
        },
      ),
      { numRuns: 300 },
    );
  });
});
