import { configDefaults, defineConfig } from "vitest/config";
import { BROWSER_TESTS, chromiumProject } from "./test/browser/rig/chromium-project.js";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Browser and workerd suites start their own servers; keep files from fighting for two cores.
    maxWorkers: 2,
    projects: [
      // Every test file runs in Node, except `*.browser.test.ts`, which runs inside Chromium.
      {
        extends: true,
        test: { name: "node", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, BROWSER_TESTS] },
      },
      chromiumProject(),
    ],
  },
});
