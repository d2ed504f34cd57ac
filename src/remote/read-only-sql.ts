/**
 * Whether running a statement twice is harmless: the retry rule needs to know,
 * because a request that reached the server and failed may still have run.
 *
 * The answer is conservative (false when unsure): a single SELECT, VALUES or
 * EXPLAIN statement, a WITH statement that names no writing keyword outside
 * literals and comments, or a transaction control statement (which changes no
 * data by itself).
 */
export function isReadOnlySql(sql: string): boolean {
  const words = keywords(sql);
  if (words === undefined || words.length === 0) return false;
  const first = words[0] as string;
  if (first === "SELECT" || first === "VALUES" || first === "EXPLAIN") return true;
  if (first === "WITH") return !words.some((w) => WRITING.has(w));
  return CONTROL.has(first);
}

const WRITING = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT"]);
const CONTROL = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]);

/**
 * The upper-cased bare words of one statement, skipping literals, quoted names and
 * comments; undefined when the text holds more than one statement or cannot be read.
 */
function keywords(sql: string): string[] | undefined {
  const words: string[] = [];
  let ended = false;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === ";") {
      ended = true;
      i++;
    } else if (ended) {
      return undefined;
    } else if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      for (;;) {
        j = sql.indexOf(close, j);
        if (j < 0) return undefined;
        if (close !== "]" && sql[j + 1] === close) j += 2;
        else break;
      }
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      words.push(sql.slice(i, j).toUpperCase());
      i = j;
    } else {
      i++;
    }
  }
  return words;
}
