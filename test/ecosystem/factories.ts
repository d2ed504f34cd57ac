import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient as createReferenceClient } from "@libsql/client";
import type { Client, Config } from "../../src/api.js";
import { createClient } from "../../src/node.js";
import type { ClientFactory } from "../support/client-factory.js";

/** A factory with temp directories to remove once its tests are done. */
export interface CleanableFactory extends ClientFactory {
  cleanup(): void;
}

function tempDirs(): { make(): string; cleanup(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), "libsql-web-eco-"));
      dirs.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** libsql-web's in-process engine on a private in-memory database. */
export const inProcessMemory: ClientFactory = {
  name: "libsql-web, in-process, memory",
  caps: { extendedCodes: true, localEngine: true, sharedConnection: true },
  create: async (config?: Partial<Config>) => createClient({ url: ":memory:", ...config }),
};

/** libsql-web's in-process engine on a new `file:` database in a temp directory. */
export function inProcessFile(): CleanableFactory {
  const dirs = tempDirs();
  return {
    name: "libsql-web, in-process, file",
    caps: { extendedCodes: true, localEngine: true, sharedConnection: true },
    create: async (config?: Partial<Config>) =>
      createClient({ ...config, url: `file:${join(dirs.make(), "db.sqlite")}` }),
    cleanup: dirs.cleanup,
  };
}

/**
 * `@libsql/client` (native libSQL) on a new `file:` database: the reference
 * the ORMs are written for, so a suite passing on both shows the same
 * behaviour. Not `:memory:`: its `transaction()` hands the connection over
 * and the client goes on with a new, empty in-memory database.
 */
export function reference(): CleanableFactory {
  const dirs = tempDirs();
  return {
    name: "@libsql/client (reference)",
    caps: { extendedCodes: true, localEngine: false, sharedConnection: true },
    create: async (config?: Partial<Config>) => {
      const { url: _url, ...rest } = config ?? {};
      const client = createReferenceClient({
        url: `file:${join(dirs.make(), "db.sqlite")}`,
        ...(rest.intMode ? { intMode: rest.intMode } : {}),
      });
      // The suites use only the API both clients share; the cast states that, it converts nothing.
      return client as unknown as Client;
    },
    cleanup: dirs.cleanup,
  };
}
