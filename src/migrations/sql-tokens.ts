/** A token of SQL text: a word (keyword or bare name), a quoted name or string, punctuation, or a semicolon. */
export interface SqlToken {
  kind: "word" | "quoted" | "string" | "semicolon" | "other";
  /** The token's text as written. */
  text: string;
  /** Offset of the token's first character. */
  start: number;
  /** Offset just past the token. */
  end: number;
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Where the quote that opens at `start` closes (a doubled closing quote is part of the text). */
function closing(sql: string, start: number, close: string): number {
  let i = start + 1;
  for (;;) {
    const at = sql.indexOf(close, i);
    if (at < 0) return sql.length;
    if (close !== "]" && sql[at + 1] === close) {
      i = at + 2;
      continue;
    }
    return at + 1;
  }
}

/**
 * The tokens of `sql`, skipping white space and comments, as SQLite's
 * tokenizer sees them: `'…'` strings, `"…"`, `` `…` `` and `[…]` quoted names,
 * `--` and `/* *\/` comments. Unterminated quotes and comments run to the end.
 */
export function sqlTokens(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    let end: number;
    let kind: SqlToken["kind"];
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f") {
      i++;
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
      continue;
    }
    if (c === "'") {
      kind = "string";
      end = closing(sql, i, "'");
    } else if (c === '"' || c === "`") {
      kind = "quoted";
      end = closing(sql, i, c);
    } else if (c === "[") {
      kind = "quoted";
      end = closing(sql, i, "]");
    } else if (c === ";") {
      kind = "semicolon";
      end = i + 1;
    } else if (WORD.test(c)) {
      kind = "word";
      end = i + 1;
      while (end < sql.length && WORD.test(sql[end] as string)) end++;
    } else {
      kind = "other";
      end = i + 1;
    }
    tokens.push({ kind, text: sql.slice(i, end), start: i, end });
    i = end;
  }
  return tokens;
}

/** The name a word or quoted-name token stands for (quotes removed, doubled quotes undone). */
export function tokenName(token: SqlToken): string {
  if (token.kind !== "quoted") return token.text;
  const open = token.text[0] as string;
  const close = open === "[" ? "]" : open;
  const inner = token.text.slice(1, token.text.endsWith(close) && token.text.length > 1 ? -1 : undefined);
  return open === "[" ? inner : inner.replaceAll(close + close, close);
}
