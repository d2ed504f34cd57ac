import type { Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type ChromiumSession, launchChromium } from "./chromium.js";
import { type PageServer, startPreviewServer } from "./page-server.js";

/** The test page built and served, and a Chromium to open it in; shared by the tests of one file. */
export interface BrowserFixture {
  readonly server: PageServer;
  readonly chromium: ChromiumSession;
  /** Opens the test page in a new tab (`coi`: cross-origin isolated) and waits for its API. */
  open(options?: { coi?: boolean }): Promise<Page>;
  /** Page errors and console errors seen so far, for assertions. */
  readonly problems: string[];
}

/**
 * Builds the test page and starts Chromium before the file's tests (removed
 * afterwards); every test opens its own tabs and uses its own database names.
 */
export function useBrowser(): BrowserFixture {
  let server: PageServer | undefined;
  let chromium: ChromiumSession | undefined;
  const problems: string[] = [];
  beforeAll(async () => {
    server = await startPreviewServer();
    chromium = await launchChromium();
  });
  afterAll(async () => {
    try {
      await chromium?.close();
    } finally {
      await server?.close();
    }
  });
  return {
    get server() {
      return server as PageServer;
    },
    get chromium() {
      return chromium as ChromiumSession;
    },
    problems,
    async open(options = {}) {
      const page = await (chromium as ChromiumSession).context.newPage();
      page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console: ${message.text()}`);
      });
      await page.goto(new URL(options.coi ? "coi/" : "", (server as PageServer).url).href);
      await page.waitForFunction(() => window.lib !== undefined);
      return page;
    },
  };
}
