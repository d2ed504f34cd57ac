import { openHandle } from "../sqlite/open-handle.js";
import type { Sqlite } from "../sqlite/sqlite.js";
import type { StorageBackend } from "./storage-backend.js";

let counter = 0;

/**
 * In-memory databases: each `open` is a new, empty database. They have no
 * name, so there is nothing to import into, and nothing of one outlives its
 * last connection: deleting always finds it already gone.
 */
export const memoryStorage: StorageBackend = {
  key: () => `memory:${++counter}`,
  open: async (sqlite: Sqlite) => openHandle(sqlite, ":memory:", null),
  deleteDatabase: async () => {},
};
