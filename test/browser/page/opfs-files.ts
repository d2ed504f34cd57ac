/**
 * Page-side helpers for the encryption tests: bytes across `page.evaluate`
 * (as base64), and a scan of every file in the origin's OPFS.
 */

/** `bytes` as base64 (Playwright carries strings across `page.evaluate`, not typed arrays). */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** The bytes of a base64 string. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * Every file in OPFS (pools, journals, key-change files) with its size and
 * whether it holds `text` in clear; read with `getFile()`, so it waits while
 * a worker that just ended still has a file open.
 */
export async function scanOpfs(text: string): Promise<{ path: string; size: number; found: boolean }[]> {
  const needle = new TextEncoder().encode(text);
  const files: { path: string; size: number; found: boolean }[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
    for await (const [name, handle] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      const path = `${prefix}/${name}`;
      if (handle.kind === "directory") {
        await walk(handle as FileSystemDirectoryHandle, path);
        continue;
      }
      const bytes = await readBytes(handle as FileSystemFileHandle);
      files.push({ path, size: bytes.length, found: contains(bytes, needle) });
    }
  };
  await walk(await navigator.storage.getDirectory(), "");
  return files;
}

/** The file's bytes; retried while a worker that just ended still holds an access handle on it (a few seconds). */
async function readBytes(handle: FileSystemFileHandle): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    try {
      return new Uint8Array(await (await handle.getFile()).arrayBuffer());
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  outer: for (
    let i = haystack.indexOf(first as number);
    i !== -1 && i <= haystack.length - needle.length;
    i = haystack.indexOf(first as number, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The files of database `name`'s opfs-sahpool pool as SQLite names them
 * (`/database.db`, `/database.db-journal`), base64: each slot file is a
 * 4096-byte header (the name, NUL-terminated, first) and then the file's bytes.
 */
export async function sahpoolFiles(name: string): Promise<Record<string, string>> {
  let dir = await navigator.storage.getDirectory();
  for (const part of [".libsql-web", "sahpool", encodeURIComponent(name), ".opaque"]) {
    dir = await dir.getDirectoryHandle(part);
  }
  const files: Record<string, string> = {};
  for await (const [, handle] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) {
    if (handle.kind !== "file") continue;
    const bytes = await readBytes(handle as FileSystemFileHandle);
    const end = bytes.subarray(0, 512).indexOf(0);
    const path = new TextDecoder().decode(bytes.subarray(0, Math.max(end, 0)));
    if (path !== "") files[path] = toBase64(bytes.subarray(4096));
  }
  return files;
}

/** Writes `files` (name → base64) into the OPFS root, as the `opfs` storage keeps databases and journals. */
export async function writeOpfsFiles(files: Record<string, string>): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for (const [name, base64] of Object.entries(files)) {
    const writable = await (await root.getFileHandle(name, { create: true })).createWritable();
    await writable.write(fromBase64(base64));
    await writable.close();
  }
}

/** Reads files of the OPFS root (as the `opfs` storage keeps them) as base64; missing ones are left out. */
export async function readOpfsFiles(names: string[]): Promise<Record<string, string>> {
  const root = await navigator.storage.getDirectory();
  const files: Record<string, string> = {};
  for (const name of names) {
    try {
      files[name] = toBase64(await readBytes(await root.getFileHandle(name)));
    } catch (error) {
      if ((error as { name?: string }).name !== "NotFoundError") throw error;
    }
  }
  return files;
}
