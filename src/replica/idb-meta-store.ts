import { get, promisifyRequest, set, type UseStore } from "idb-keyval";
import { checkMeta, type MetaStore, type ReplicaMeta } from "./replica-meta.js";

const DATABASE = "libsql-web-replicas";
const STORE = "meta";

let shared: UseStore | undefined;

/**
 * An idb-keyval store whose write transactions are `strict`: Chromium commits
 * IndexedDB `relaxed`ly by default (not flushed to disk), and replica metadata
 * must be durable before the next pages are written.
 */
function strictStore(): UseStore {
  if (!shared) {
    const request = indexedDB.open(DATABASE);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    const db = promisifyRequest(request);
    db.catch(() => {
      shared = undefined;
    });
    shared = (mode, callback) =>
      db.then((idb) => callback(idb.transaction(STORE, mode, { durability: "strict" }).objectStore(STORE)));
  }
  return shared;
}

/** Replica metadata in IndexedDB (through idb-keyval), keyed by the database's storage and name. */
export class IdbMetaStore implements MetaStore {
  readonly #key: string;

  /** `key` names the database, e.g. `opfs-sahpool:notes.db`. */
  constructor(key: string) {
    this.#key = key;
  }

  async load(): Promise<ReplicaMeta | undefined> {
    const value = await get(this.#key, strictStore());
    return value === undefined ? undefined : checkMeta(value, `IndexedDB "${DATABASE}" (${this.#key})`);
  }

  async save(meta: ReplicaMeta): Promise<void> {
    await set(this.#key, { ...meta }, strictStore());
  }
}
