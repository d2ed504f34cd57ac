// Syncs an embedded replica once, in a process of its own that the crash test kills at
// random points. Prints one JSON line per milestone: "syncing" when the sync starts,
// "downloaded-bootstrap"/"downloaded-pull" when everything of that phase has arrived
// (so writing it starts), "synced" when the sync returned.
// Usage: node --import tsx replica-sync.ts <db path> <sync url> <auth token> [<encryption key>]
import { createClient } from "../../../src/node.js";

const [path, syncUrl, authToken, encryptionKey] = process.argv.slice(2) as [string, string, string, string?];
/** Frames per pull request (`src/replica/replica-puller.ts`). */
const PULL_BATCH = 1024;
const started = performance.now();
const say = (event: string) => process.stdout.write(`${JSON.stringify({ event, ms: performance.now() - started })}\n`);
const client = createClient({
  url: `file:${path}`,
  syncUrl,
  authToken,
  encryptionKey,
  onSyncProgress: (p) => {
    // A pull asks for 1,024 frames at a time. A first response of fewer was all of them; after a
    // full one, the count to expect follows (the next batch may report progress before it does).
    const whole =
      p.phase === "bootstrap"
        ? p.bytesExpected !== undefined && p.bytesDone === p.bytesExpected
        : p.framesExpected === undefined
          ? p.framesDone > 0 && p.framesDone < PULL_BATCH
          : p.framesDone === p.framesExpected;
    if (whole) say(`downloaded-${p.phase}`);
  },
});
say("syncing");
await client.sync();
say("synced");
await client[Symbol.asyncDispose]();
