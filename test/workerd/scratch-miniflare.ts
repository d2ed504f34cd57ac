import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare, type MiniflareOptions } from "miniflare";

/**
 * A Miniflare whose scratch directory lives in a temporary directory of our
 * own, removed by `dispose()`: Miniflare's own removal is fire-and-forget and
 * loses the race with the test process exiting.
 */
export async function scratchMiniflare(
  options: MiniflareOptions,
): Promise<{ mf: Miniflare; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "libsql-web-workerd-"));
  const previous = process.env.TMPDIR;
  // Miniflare reads os.tmpdir() (which follows TMPDIR) once, in its constructor.
  process.env.TMPDIR = dir;
  let mf: Miniflare;
  try {
    mf = new Miniflare(options);
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  return {
    mf,
    async dispose() {
      try {
        await mf.dispose();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
