// Installs SQLite's opfs-sahpool on a directory without libsql-web's Web Lock, the way a second tab
// of an unprotected application would, and reports what happened. In SQLite 3.45.1 a failed install
// tries to remove the whole pool directory.
import init from "../../../engine/sqlite3-bundler-friendly.mjs";

addEventListener("message", async (event) => {
  const sqlite3 = await init({ print: () => {}, printErr: () => {} });
  const pool = await sqlite3.installOpfsSAHPoolVfs({
    name: "raw-sahpool",
    directory: event.data.directory,
    clearOnInit: false,
    verbosity: 0,
  });
  postMessage(
    pool instanceof Error
      ? { installed: false, error: `${pool.name}: ${pool.message}` }
      : { installed: true, files: pool.getFileNames() },
  );
});
