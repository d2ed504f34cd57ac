/**
 * An SQL identifier in double quotes, with embedded quotes doubled, so any
 * table, column or index name is safe to splice into SQL text.
 *
 * @example
 * quoteIdentifier('my "table"'); // "\"my \"\"table\"\"\""
 */
export function quoteIdentifier(name: string): string {
  if (typeof name !== "string" || name.length === 0 || name.includes("\u0000")) {
    throw new TypeError("an SQL identifier must be a non-empty string without NUL characters");
  }
  return `"${name.replaceAll('"', '""')}"`;
}
