import { type SqlToken, sqlTokens } from "./sql-tokens.js";

// The states of SQLite's sqlite3_complete(): a statement ends at a semicolon,
// except inside CREATE TRIGGER … BEGIN … END, which ends at "; END ;".
type State = "start" | "normal" | "explain" | "create" | "trigger" | "semi" | "end";

function next(state: State, token: SqlToken): State {
  const word = token.kind === "word" ? token.text.toUpperCase() : "";
  const semi = token.kind === "semicolon";
  switch (state) {
    case "start":
      if (semi) return "start";
      if (word === "EXPLAIN") return "explain";
      if (word === "CREATE") return "create";
      return "normal";
    case "explain":
      if (semi) return "start";
      if (word === "CREATE") return "create";
      return "normal";
    case "create":
      if (semi) return "start";
      if (word === "TEMP" || word === "TEMPORARY") return "create";
      if (word === "TRIGGER") return "trigger";
      return "normal";
    case "trigger":
      return semi ? "semi" : "trigger";
    case "semi":
      if (semi) return "semi";
      return word === "END" ? "end" : "trigger";
    case "end":
      return semi ? "start" : "trigger";
    default:
      return semi ? "start" : "normal";
  }
}

/**
 * Splits an SQL script into its statements (without the separating
 * semicolons), the way SQLite's `sqlite3_complete()` sees statement ends:
 * semicolons in strings, quoted names and comments do not count, and a
 * `CREATE TRIGGER` body runs to its `END`. Empty statements are dropped;
 * comments stay inside the statement they are in.
 *
 * @example
 * splitStatements("CREATE TABLE a(x); INSERT INTO a VALUES (';');");
 * // ["CREATE TABLE a(x)", "INSERT INTO a VALUES (';')"]
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let state: State = "start";
  let first: number | undefined;
  let last = 0;
  for (const token of sqlTokens(sql)) {
    state = next(state, token);
    if (token.kind === "semicolon" && state === "start") {
      if (first !== undefined) statements.push(sql.slice(first, last));
      first = undefined;
      continue;
    }
    first ??= token.start;
    last = token.end;
  }
  if (first !== undefined) statements.push(sql.slice(first, last));
  return statements;
}
