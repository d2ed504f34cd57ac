import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Clear text every row of the encrypted replica tests carries, to look for in files at rest. */
export const MARKER = "REPLICA-PLAINTEXT-5c1e";

/** Names of the files in `dir` (database, journal, working copy, metadata, anything else) that hold `text` in clear. */
export function filesHolding(dir: string, text: string): string[] {
  const needle = Buffer.from(text, "utf8");
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && readFileSync(join(dir, entry.name)).includes(needle))
    .map((entry) => entry.name);
}

/** Text (the marker, repeated) of exactly the length that makes a row of (rowid, text) spill into `pages` overflow pages. */
export function spilling(pages: number): string {
  // Payload = record header + text; with 4096-byte pages the leaf keeps 489 bytes and each overflow page 4092.
  // The text's serial type takes 3 bytes of the header from 8186 bytes on.
  const payload = 489 + pages * 4092;
  const header = payload - 4 <= 8185 ? 4 : 5;
  return `${MARKER}-`.repeat(Math.ceil(payload / MARKER.length)).slice(0, payload - header);
}
