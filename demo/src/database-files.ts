import { deleteDatabase, exportDatabase, importDatabase } from "../../src/browser.js";
import { LibsqlError } from "../../src/errors.js";
import type { Target } from "./target.js";

/** Where the local database lives (what `opfs:demo.db` opens). */
export const LOCAL_DATABASE = { storage: "opfs-sahpool", path: "demo.db" } as const;

/**
 * The file panel: download the local database, replace it with a file, or
 * delete it. Import and delete need the database closed, so they close the
 * local client first (the next query opens it again).
 */
export function mountDatabaseFiles(local: Target): void {
  const status = document.getElementById("files-status") as HTMLElement;
  const say = (text: string) => {
    status.textContent = text;
  };
  const fail = (what: string, error: unknown) =>
    say(
      `${what} failed: ${error instanceof LibsqlError ? `${error.code}: ` : ""}${(error as Error)?.message ?? error}`,
    );

  document.getElementById("export")?.addEventListener("click", async () => {
    try {
      const bytes = await exportDatabase(LOCAL_DATABASE);
      const url = URL.createObjectURL(
        new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/vnd.sqlite3" }),
      );
      const link = Object.assign(document.createElement("a"), { href: url, download: LOCAL_DATABASE.path });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(`Exported ${bytes.byteLength} bytes.`);
    } catch (error) {
      fail("Export", error);
    }
  });

  const input = document.getElementById("import-file") as HTMLInputElement;
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      await local.close();
      await importDatabase({ ...LOCAL_DATABASE, busyTimeoutMs: 10_000 }, bytes);
      say(`Imported ${file.name} (${bytes.byteLength} bytes).`);
    } catch (error) {
      fail("Import", error);
    }
  });

  document.getElementById("delete")?.addEventListener("click", async () => {
    if (!confirm(`Delete ${LOCAL_DATABASE.path} and everything in it?`)) return;
    try {
      await local.close();
      await deleteDatabase({ ...LOCAL_DATABASE, busyTimeoutMs: 10_000 });
      say(`Deleted ${LOCAL_DATABASE.path}.`);
    } catch (error) {
      fail("Delete", error);
    }
  });
}
