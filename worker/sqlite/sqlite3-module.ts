import type init from "@libsql/libsql-wasm-experimental";

/** The sqlite3 JS API object the Emscripten glue resolves to. */
export type Sqlite3Module = Awaited<ReturnType<typeof init>>;

/** The glue's init function: `sqlite3InitModule(options)`. */
export type Sqlite3Init = typeof init;
