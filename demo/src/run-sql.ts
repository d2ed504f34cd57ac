import type { Client, ResultSet } from "../../src/api.js";
import { LibsqlError } from "../../src/errors.js";

/** What running the console's SQL gave. */
export type Outcome =
  | { kind: "result"; result: ResultSet; ms: number }
  | { kind: "script"; ms: number }
  | { kind: "error"; code: string; extendedCode: string | undefined; message: string; ms: number };

/**
 * Runs `sql` on `client`: one statement with `execute` (its rows, or what
 * it changed), or several with `executeMultiple` (no rows to show). Every
 * failure comes back as an outcome with its code, timed like a success.
 */
export async function runSql(client: Client, sql: string): Promise<Outcome> {
  const started = performance.now();
  try {
    const result = await client.execute(sql);
    return { kind: "result", result, ms: performance.now() - started };
  } catch (error) {
    if (error instanceof LibsqlError && error.code === "SQL_MANY_STATEMENTS") {
      try {
        await client.executeMultiple(sql);
        return { kind: "script", ms: performance.now() - started };
      } catch (scriptError) {
        return failure(scriptError, started);
      }
    }
    return failure(error, started);
  }
}

function failure(error: unknown, started: number): Outcome {
  const ms = performance.now() - started;
  if (error instanceof LibsqlError) {
    // The message starts with the code; the page shows the code on its own.
    const message = error.message.startsWith(`${error.code}: `)
      ? error.message.slice(error.code.length + 2)
      : error.message;
    return { kind: "error", code: error.code, extendedCode: error.extendedCode, message, ms };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: "error", code: e.name, extendedCode: undefined, message: e.message, ms };
}
