import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { configDefaults, type TestProjectInlineConfiguration } from "vitest/config";
import { libsqlWeb } from "../../../src/vite-plugin.js";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "./chromium.js";

/** Test files that run inside Chromium (Vitest browser mode) rather than in Node. */
export const BROWSER_TESTS = "test/**/*.browser.test.ts";

/**
 * The Vitest project that runs `*.browser.test.ts` files in the system
 * Chromium (Vitest browser mode, Playwright provider), served by Vite dev
 * with libsql-web's plugin and cross-origin isolation (for the `opfs`
 * storage). The shared behavioural suite runs here through the worker
 * transport.
 */
export function chromiumProject(): TestProjectInlineConfiguration {
  return {
    extends: true,
    plugins: [libsqlWeb({ crossOriginIsolation: true })],
    // Found at start-up rather than when a test first loads them: Vite reloads the page after a late
    // dependency optimisation, which a fresh clone's first run would otherwise hit mid-test.
    optimizeDeps: {
      include: [
        "@noble/ciphers/aes.js",
        "@noble/ciphers/chacha.js",
        "@noble/hashes/argon2.js",
        "@noble/hashes/legacy.js",
        "@noble/hashes/sha2.js",
        "idb-keyval",
        "comlink",
      ],
    },
    test: {
      name: "chromium",
      include: [BROWSER_TESTS],
      exclude: configDefaults.exclude,
      // One browser session, so that it can run on a real profile (below).
      fileParallelism: false,
      globalSetup: [fileURLToPath(new URL("./chromium-run-teardown.ts", import.meta.url))],
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({
          launchOptions: {
            executablePath: CHROMIUM_PATH,
            args: CHROMIUM_FLAGS,
            // Chromium's config and cache folders (crash reports) go with the run's folder too.
            env: {
              ...process.env,
              XDG_CONFIG_HOME: join(runDirectory(), "config"),
              XDG_CACHE_HOME: join(runDirectory(), "cache"),
            },
          },
          // A profile on disk: in the default incognito context Chromium keeps OPFS in memory, where
          // writing a large file through access handles is ~20x slower (a 50 MB blob: 15 s instead of 0.8 s).
          persistentContext: join(runDirectory(), "profile"),
        }),
        instances: [{ browser: "chromium" }],
      },
    },
  };
}

/**
 * This run's folder for Chromium (profile, config, cache): named once per run
 * (the name travels to Vitest's other processes in the environment), created
 * by Chromium when it starts, removed when the run ends.
 */
export function runDirectory(): string {
  process.env.LIBSQL_WEB_CHROMIUM_RUN ??= join(
    tmpdir(),
    `libsql-web-vitest-chromium-${process.pid}-${Date.now().toString(36)}`,
  );
  return process.env.LIBSQL_WEB_CHROMIUM_RUN;
}
