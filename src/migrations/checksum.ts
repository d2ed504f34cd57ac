import type { InStatement, InValue } from "../api.js";

function argText(value: InValue): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (value instanceof ArrayBuffer || value instanceof Uint8Array) {
    return `blob:${Array.from(new Uint8Array(value instanceof Uint8Array ? value : new Uint8Array(value)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  return value;
}

/** The text a list of statements is fingerprinted by: SQL and arguments, in order. */
function statementsText(stmts: readonly InStatement[]): string {
  return JSON.stringify(
    stmts.map((s) => {
      if (typeof s === "string") return s;
      const args = s.args;
      if (args === undefined) return s.sql;
      const values = Array.isArray(args)
        ? args.map(argText)
        : Object.fromEntries(Object.entries(args).map(([k, v]) => [k, argText(v)]));
      return { sql: s.sql, args: values };
    }),
  );
}

/** SHA-256 (hex) of an SQL script, or of a list of statements with their arguments. */
export async function checksum(body: string | readonly InStatement[]): Promise<string> {
  const text = typeof body === "string" ? body : statementsText(body);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
