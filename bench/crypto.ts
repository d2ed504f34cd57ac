/**
 * Throughput of the two page codecs on 4 KiB pages, in Node: `npx tsx bench/crypto.ts`.
 * Best of several windows (another process on the machine can only slow a window
 * down), plus the raw noble primitives for comparison, header-range reads, key
 * derivation, and garbage collections per 1000 pages as a sign of allocation.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { cbc } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { AuthenticatedCodec, DEFAULT_ARGON2ID } from "../worker/crypto/authenticated-codec.js";
import type { PageCodec } from "../worker/crypto/page-codec.js";
import { WxAes256CbcCodec } from "../worker/crypto/wx-aes256cbc-codec.js";

const PAGE = 4096;
const WINDOWS = 5;
const WINDOW_MS = 400;
const PAGES = 256;

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ["gc"] });

/** Runs `step(i)` repeatedly for WINDOWS windows; best per-call time in µs and GCs per 1000 calls. */
async function measure(step: (i: number) => void): Promise<{ us: number; gcPer1000: number }> {
  let best = Number.POSITIVE_INFINITY;
  let calls = 0;
  const gcBefore = gcs;
  for (let w = 0; w < WINDOWS; w++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < WINDOW_MS) {
      for (let k = 0; k < 32; k++) step(n++);
      now = performance.now();
    }
    best = Math.min(best, ((now - start) * 1000) / n);
    calls += n;
    // GC entries reach the observer only between tasks.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { us: best, gcPer1000: ((gcs - gcBefore) * 1000) / calls };
}

function row(name: string, result: { us: number; gcPer1000: number }, bytes = PAGE): string {
  const mbs = bytes / result.us; // bytes per µs = MB/s
  return `${name.padEnd(44)} ${mbs.toFixed(1).padStart(7)} MB/s ${result.us.toFixed(1).padStart(8)} µs ${result.gcPer1000.toFixed(2).padStart(7)} GC/1000`;
}

function pages(fill: (page: Uint8Array, i: number) => void): Uint8Array[] {
  return Array.from({ length: PAGES }, (_, i) => {
    const page = new Uint8Array(PAGE);
    crypto.getRandomValues(page);
    fill(page, i);
    return page;
  });
}

/** A page 1 as SQLite writes it: magic, header bytes 16..23, `reserve` bytes at the end. */
function page1(reserve: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  page.set(new TextEncoder().encode("SQLite format 3\0"));
  page.set([0x10, 0x00, 1, 1, reserve, 0x40, 0x20, 0x20], 16);
  return page;
}

type Case = [name: string, step: (i: number) => void, bytes?: number];

function codecCases(name: string, codec: PageCodec): Case[] {
  const plain = pages((page) => page.fill(0, PAGE - codec.reserveBytes));
  const cipher = plain.map((page, i) => {
    const out = new Uint8Array(PAGE);
    codec.encryptPage(i + 2, page, out);
    return out;
  });
  const out = new Uint8Array(PAGE);
  const work = new Uint8Array(PAGE);
  const p1 = page1(codec.reserveBytes);
  const p1Cipher = new Uint8Array(PAGE);
  codec.encryptPage(1, p1, p1Cipher);
  const range = new Uint8Array(16);
  return [
    [`${name} encrypt`, (i) => codec.encryptPage((i % PAGES) + 2, plain[i % PAGES]!, out)],
    [`${name} decrypt`, (i) => codec.decryptPage((i % PAGES) + 2, cipher[i % PAGES]!, out)],
    [
      `${name} decrypt in place (incl. a 4 KiB copy)`,
      (i) => {
        work.set(cipher[i % PAGES]!);
        codec.decryptPage((i % PAGES) + 2, work, work);
      },
    ],
    [`${name} encrypt page 1`, () => codec.encryptPage(1, p1, out)],
    [`${name} decrypt page 1`, () => codec.decryptPage(1, p1Cipher, out)],
    [`${name} header read (16 bytes at 24 of page 1)`, () => codec.decryptRange(1, p1Cipher, 24, range), 16],
  ];
}

function timeOnce(f: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    f();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const key = new Uint8Array(32).fill(7);
const iv = new Uint8Array(16).fill(9);
const nonce = new Uint8Array(24).fill(3);
const raw = pages(() => {});
const rawOut = new Uint8Array(PAGE);
const rawSealed = new Uint8Array(PAGE + 16);

const cases: Case[] = [
  ["noble AES-256-CBC encrypt (raw)", (i) => cbc(key, iv, { disablePadding: true }).encrypt(raw[i % PAGES]!, rawOut)],
  ["noble AES-256-CBC decrypt (raw)", (i) => cbc(key, iv, { disablePadding: true }).decrypt(raw[i % PAGES]!, rawOut)],
  ["noble XChaCha20-Poly1305 encrypt (raw)", (i) => xchacha20poly1305(key, nonce).encrypt(raw[i % PAGES]!, rawSealed)],
  ...codecCases("native aes256cbc", WxAes256CbcCodec.fromKey("bench-key")),
  ...codecCases("authenticated", AuthenticatedCodec.create("bench-key", { m: 64, t: 1, p: 1 })),
];
console.log(`Node ${process.version}, ${PAGE}-byte pages, best of ${WINDOWS} × ${WINDOW_MS} ms windows`);
for (const [name, step, bytes] of cases) console.log(row(name, await measure(step), bytes));
console.log(
  `key derivation, native (4002 × SHA-256): ${timeOnce(() => WxAes256CbcCodec.fromKey("bench-key")).toFixed(1)} ms`,
);
console.log(
  `key derivation, authenticated (Argon2id m=${DEFAULT_ARGON2ID.m} KiB, t=${DEFAULT_ARGON2ID.t}, p=${DEFAULT_ARGON2ID.p}): ` +
    `${timeOnce(() => AuthenticatedCodec.create("bench-key")).toFixed(0)} ms`,
);
