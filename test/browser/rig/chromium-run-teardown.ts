import { rmSync } from "node:fs";
import { runDirectory } from "./chromium-project.js";

/**
 * Global setup of the Chromium project: removes this run's Chromium folder.
 * Chromium still writes to it while it shuts down, after the global
 * teardown, so the folder goes when Vitest's process exits.
 */
export default function setup(): void {
  const dir = runDirectory();
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
}
