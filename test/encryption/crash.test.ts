import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EncryptionFormat } from "../../src/proto.js";
import { crashChild, filesWithText, MARKER, openWeb } from "./helpers.js";

const KEY = "crash-test-key-0123456789abcdef";
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Rounds per format: the authenticated format pays Argon2id (~0.3 s) at every open, in the child and here. */
const FORMATS: { format: EncryptionFormat; rounds: number }[] = [
  { format: "libsql", rounds: 20 },
  { format: "authenticated", rounds: 6 },
];

describe.each(FORMATS)("encrypted ($format) file databases and killed processes", ({ format, rounds }) => {
  it(`roll back a transaction cut short by SIGKILL with pages spilled, ${rounds} times, with no clear text at rest`, {
    timeout: 240_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-crash-"));
    const path = join(dir, "crash.db");
    const batch = 50;
    for (let round = 1; round <= rounds; round++) {
      let atCrash: { journal: boolean; clear: string[] } | undefined;
      await crashChild(["web", path, String(batch), KEY, format], () => {
        atCrash = { journal: existsSync(`${path}-journal`), clear: filesWithText(dir as string, MARKER) };
      });
      // The transaction had reached the file (its journal holds the originals), and nothing was in clear.
      expect(atCrash, `round ${round}`).toEqual({ journal: true, clear: [] });
      expect(filesWithText(dir, MARKER), `after the crash, round ${round}`).toEqual([]);

      const db = await openWeb(path, { key: KEY, format });
      try {
        expect(await db.value("SELECT count(*) FROM t"), `round ${round}`).toBe(round * batch);
        expect(await db.value("PRAGMA integrity_check")).toBe("ok");
      } finally {
        await db.close();
      }
      expect(existsSync(`${path}-journal`)).toBe(false);
      expect(filesWithText(dir, MARKER)).toEqual([]);
    }
  });
});
