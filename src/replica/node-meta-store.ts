import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDirectory } from "../../worker/node/fsync-directory.js";
import { checkMeta, type MetaStore, type ReplicaMeta } from "./replica-meta.js";

/**
 * Replica metadata in a JSON file beside the database (`<db>-replica.json`),
 * replaced atomically: written to a temporary file, synced, renamed over the
 * old one, and the directory synced, so that a crash leaves the old or the new
 * version, never a mix.
 */
export class NodeMetaStore implements MetaStore {
  readonly #path: string;

  /** `dbPath` is the database file's path. */
  constructor(dbPath: string) {
    this.#path = `${dbPath}-replica.json`;
  }

  async load(): Promise<ReplicaMeta | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    return checkMeta(value, this.#path);
  }

  async save(meta: ReplicaMeta): Promise<void> {
    const temp = `${this.#path}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(meta), { flush: true });
      await rename(temp, this.#path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
    fsyncDirectory(dirname(this.#path));
  }
}
