/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The local remote database (the loopback Hrana server) `scripts/start-demo.mjs` starts, if any. */
  readonly VITE_LIBSQL_REMOTE_URL?: string;
}
