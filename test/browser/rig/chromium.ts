import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium; `CHROMIUM_PATH` overrides it (Playwright's own browser download does not work here). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags for headless Chromium on this kind of machine (no GPU, no sandbox, no background traffic). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-breakpad",
];

/** A Chromium profile of its own, removed by `close()`. */
export interface ChromiumSession {
  readonly context: BrowserContext;
  /** Closes the browser and starts it again on the same profile (same origin storage). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium on a fresh profile (so OPFS starts empty). Its
 * config and cache directories (crash reports) also live in the temporary
 * directory, so nothing is left behind.
 */
export async function launchChromium(): Promise<ChromiumSession> {
  const home = await mkdtemp(join(tmpdir(), "libsql-web-chromium-"));
  const launch = () =>
    chromium.launchPersistentContext(join(home, "profile"), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      env: { ...process.env, XDG_CONFIG_HOME: join(home, "config"), XDG_CACHE_HOME: join(home, "cache") },
    });
  let context = await launch();
  return {
    get context() {
      return context;
    },
    async restart() {
      await context.close();
      context = await launch();
    },
    async close() {
      try {
        await context.close();
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}
