/**
 * A tokenizer that follows SQLite's own (`tokenize.c`, `sqlite3GetToken`) closely enough
 * to find statement boundaries, leading keywords and bound parameters.
 *
 * Why: the native `libsql` package prepares only the first statement of a string without
 * saying where it ended, and exposes neither `sqlite3_bind_parameter_count` nor
 * `sqlite3_bind_parameter_name`. The server needs all three to behave as sqld (which
 * splits SQL with its own SQLite-grammar parser and binds by parameter name).
 */

/** One token; whitespace and comments are dropped. */
export interface SqlToken {
  /** `word` is a bare identifier or keyword; `quoted` is "x", `x`, [x]. */
  kind: "word" | "quoted" | "string" | "number" | "variable" | "semicolon" | "lparen" | "rparen" | "other";
  /** The token's source text. */
  text: string;
  /** Offset of the first character in the SQL string. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

/** A lexical error SQLite would also reject (an unterminated literal). */
export class SqlLexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SqlLexError";
  }
}

const SPACE = /[ \t\n\f\r\v]/;

/** SQLite's `IdChar`: letters, digits, `_`, `$` and every non-ASCII character. */
function isIdChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  return /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
}

function isIdStart(c: string | undefined): boolean {
  if (c === undefined) return false;
  return /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** Splits `sql` into tokens, skipping whitespace and comments. */
export function tokenizeSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const push = (kind: SqlToken["kind"], start: number, end: number) => {
    tokens.push({ kind, text: sql.slice(start, end), start, end });
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const start = i;
    if (SPACE.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      // SQLite accepts an unterminated block comment as running to the end.
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === "`") {
      i = quotedEnd(sql, i, c);
      push(c === "'" ? "string" : "quoted", start, i);
    } else if (c === "[") {
      const close = sql.indexOf("]", i);
      if (close < 0) throw new SqlLexError(`unrecognized token: "${sql.slice(i, i + 20)}"`);
      i = close + 1;
      push("quoted", start, i);
    } else if ((c === "x" || c === "X") && sql[i + 1] === "'") {
      i = quotedEnd(sql, i + 1, "'");
      push("string", start, i);
    } else if (c === ";") {
      i++;
      push("semicolon", start, i);
    } else if (c === "(") {
      i++;
      push("lparen", start, i);
    } else if (c === ")") {
      i++;
      push("rparen", start, i);
    } else if (c === "?") {
      i++;
      while (isDigit(sql[i])) i++;
      push("variable", start, i);
    } else if (c === ":" || c === "@" || c === "$" || c === "#") {
      const end = namedVariableEnd(sql, i);
      if (end === undefined) {
        i++;
        push("other", start, i);
      } else {
        i = end;
        push("variable", start, i);
      }
    } else if (isDigit(c) || (c === "." && isDigit(sql[i + 1]))) {
      i++;
      while (i < sql.length && (isIdChar(sql[i]) || sql[i] === "." || numberSign(sql, i))) i++;
      push("number", start, i);
    } else if (isIdStart(c)) {
      i++;
      while (isIdChar(sql[i])) i++;
      push("word", start, i);
    } else {
      i++;
      push("other", start, i);
    }
  }
  return tokens;
}

/** A `+`/`-` right after the `e` of an exponent belongs to the number. */
function numberSign(sql: string, i: number): boolean {
  const c = sql[i];
  const prev = sql[i - 1];
  return (c === "+" || c === "-") && (prev === "e" || prev === "E") && isDigit(sql[i + 1]);
}

/** End of a literal that starts with `quote` at `i`; a doubled quote escapes itself. */
function quotedEnd(sql: string, i: number, quote: string): number {
  let j = i + 1;
  for (;;) {
    const k = sql.indexOf(quote, j);
    if (k < 0) throw new SqlLexError(`unrecognized token: "${sql.slice(i, i + 20)}"`);
    if (sql[k + 1] === quote) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

/**
 * End of a `:name`, `@name`, `$name` or `#name` parameter at `i`, or undefined when the
 * prefix is not followed by a name (SQLite then reports an unrecognised token). Includes
 * the Tcl forms `$a::b` and `$a(x)` that SQLite also accepts.
 */
function namedVariableEnd(sql: string, i: number): number | undefined {
  let n = 0;
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (isIdChar(c)) {
      n++;
      j++;
    } else if (c === "(" && n > 0) {
      j++;
      while (j < sql.length && !SPACE.test(sql[j] as string) && sql[j] !== ")") j++;
      if (sql[j] !== ")") return undefined;
      return j + 1;
    } else if (c === ":" && sql[j + 1] === ":") {
      j += 2;
    } else {
      break;
    }
  }
  return n > 0 ? j : undefined;
}

/** One statement of an SQL string. */
export interface SqlStatement {
  /** The statement's text, from its first token to its last (the `;` excluded). */
  text: string;
  /** Its tokens, offsets relative to `text`. */
  tokens: SqlToken[];
}

enum Complete {
  Invalid = 0,
  Start = 1,
  Normal = 2,
  Explain = 3,
  Create = 4,
  Trigger = 5,
  Semi = 6,
  End = 7,
}

// sqlite3_complete()'s state machine: a `;` ends a statement except inside
// CREATE TRIGGER ... BEGIN ... END, where only `; END ;` does.
// Columns: SEMI, OTHER, EXPLAIN, CREATE, TEMP, TRIGGER, END.
const TRANSITIONS: readonly (readonly Complete[])[] = [
  [1, 2, 3, 4, 2, 2, 2],
  [1, 2, 3, 4, 2, 2, 2],
  [1, 2, 2, 2, 2, 2, 2],
  [1, 3, 2, 4, 2, 2, 2],
  [1, 2, 2, 2, 4, 5, 2],
  [6, 5, 5, 5, 5, 5, 5],
  [6, 5, 5, 5, 5, 5, 7],
  [1, 5, 5, 5, 5, 5, 5],
];

function completeClass(token: SqlToken): number {
  if (token.kind === "semicolon") return 0;
  if (token.kind !== "word") return 1;
  switch (token.text.toUpperCase()) {
    case "EXPLAIN":
      return 2;
    case "CREATE":
      return 3;
    case "TEMP":
    case "TEMPORARY":
      return 4;
    case "TRIGGER":
      return 5;
    case "END":
      return 6;
    default:
      return 1;
  }
}

/**
 * Splits SQL into statements the way SQLite's parser would see them; empty statements
 * (only `;`, whitespace or comments) are dropped. Throws `SqlLexError` for an
 * unterminated literal.
 */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: SqlToken[] = [];
  let state: Complete = Complete.Start;
  const finish = () => {
    const first = current[0];
    const last = current[current.length - 1];
    if (first && last) {
      const base = first.start;
      statements.push({
        text: sql.slice(base, last.end),
        tokens: current.map((t) => ({ ...t, start: t.start - base, end: t.end - base })),
      });
    }
    current = [];
  };
  for (const token of tokenizeSql(sql)) {
    state = (TRANSITIONS[state] as readonly Complete[])[completeClass(token)] as Complete;
    if (token.kind === "semicolon" && state === Complete.Start) {
      finish();
    } else {
      current.push(token);
    }
  }
  finish();
  return statements;
}

/** What the server needs to know about a statement before running it. */
export interface StatementKind {
  /** EXPLAIN or EXPLAIN QUERY PLAN. */
  isExplain: boolean;
  /** INSERT or REPLACE (possibly after a WITH clause): sqld reports `last_insert_rowid`. */
  isInsert: boolean;
  /** INSERT, REPLACE, UPDATE or DELETE: sqld reports `affected_row_count`. */
  isIud: boolean;
}

const MAIN_VERBS = new Set(["SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"]);

/** Classifies a statement by its leading keywords, as sqld's parser-based analysis does. */
export function statementKind(tokens: readonly SqlToken[]): StatementKind {
  const first = tokens[0];
  const keyword = (t: SqlToken | undefined) => (t?.kind === "word" ? t.text.toUpperCase() : "");
  if (keyword(first) === "EXPLAIN") return { isExplain: true, isInsert: false, isIud: false };
  let verb = keyword(first);
  if (verb === "WITH") {
    verb = "";
    let depth = 0;
    // Skip the common table expressions: the statement's verb is the first one at depth 0.
    for (const t of tokens.slice(1)) {
      if (t.kind === "lparen") depth++;
      else if (t.kind === "rparen") depth--;
      else if (depth === 0 && MAIN_VERBS.has(keyword(t))) {
        verb = keyword(t);
        break;
      }
    }
  }
  const isInsert = verb === "INSERT" || verb === "REPLACE";
  return { isExplain: false, isInsert, isIud: isInsert || verb === "UPDATE" || verb === "DELETE" };
}

/** Tokens after a leading `EXPLAIN` or `EXPLAIN QUERY PLAN`; undefined when there is none. */
export function explainedOffset(tokens: readonly SqlToken[]): number | undefined {
  const word = (i: number) => (tokens[i]?.kind === "word" ? (tokens[i] as SqlToken).text.toUpperCase() : "");
  if (word(0) !== "EXPLAIN") return undefined;
  const next = word(1) === "QUERY" && word(2) === "PLAN" ? tokens[3] : tokens[1];
  return next?.start;
}

const MAX_VARIABLE_NUMBER = 32766;

/**
 * Parameter names by index (index 0 = parameter 1), null for an anonymous `?`; the
 * length is SQLite's `sqlite3_bind_parameter_count`.
 *
 * Mirrors `sqlite3ExprAssignVarNumber`: `?` takes the next index; `?NNN` takes index NNN
 * (and names it `?NNN` unless the index already has a name); `:a`, `@a`, `$a`, `#a` reuse
 * the index of an earlier identical name, else take the next index. Only call this for a
 * statement SQLite prepared successfully, so every variable token is a real parameter.
 */
export function parameterNames(tokens: readonly SqlToken[]): (string | null)[] {
  const names: (string | null)[] = [];
  const byName = new Map<string, number>();
  for (const t of tokens) {
    if (t.kind !== "variable") continue;
    if (t.text === "?") {
      names.push(null);
    } else if (t.text.startsWith("?")) {
      const index = Number.parseInt(t.text.slice(1), 10);
      if (!(index >= 1 && index <= MAX_VARIABLE_NUMBER)) continue;
      while (names.length < index) names.push(null);
      if (names[index - 1] === null) names[index - 1] = t.text;
      if (!byName.has(t.text)) byName.set(t.text, index);
    } else if (!byName.has(t.text)) {
      names.push(t.text);
      byName.set(t.text, names.length);
    }
  }
  return names;
}
