import { ErrorCode, LibsqlError } from "../../src/errors.js";

/**
 * The canonical form of an OPFS database name: path segments joined by "/",
 * without empty or "." segments. ".." is refused, so a name cannot climb out
 * of the directory it names.
 */
export function normaliseOpfsPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || parts.includes("..") || parts.some((part) => part.includes("\0"))) {
    throw new LibsqlError(`invalid OPFS database name ${JSON.stringify(path)}`, ErrorCode.URL_INVALID);
  }
  return parts.join("/");
}

/** The directory handle for the segments of `path` before its last, created when `create` is true. */
export async function parentDirectory(
  path: string,
  create: boolean,
): Promise<{ dir: FileSystemDirectoryHandle; name: string }> {
  const parts = path.split("/");
  const name = parts.pop() as string;
  let dir = await navigator.storage.getDirectory();
  for (const part of parts) dir = await dir.getDirectoryHandle(part, { create });
  return { dir, name };
}
