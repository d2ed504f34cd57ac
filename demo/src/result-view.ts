import type { Value } from "../../src/api.js";
import type { Outcome } from "./run-sql.js";

/** Rows shown at most; the count still says how many there were. */
const MAX_SHOWN_ROWS = 500;
/** Bytes of a blob shown before "…". */
const BLOB_PREVIEW_BYTES = 24;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** Shows an outcome in the result panel: the table, the row count and time, or the error's code and message. */
export function showOutcome(target: string, outcome: Outcome): void {
  const table = element<HTMLTableElement>("result-table");
  const error = element("result-error");
  const note = element("result-note");
  table.replaceChildren();
  note.textContent = "";
  error.hidden = outcome.kind !== "error";
  element("result-target").textContent = target;
  element("result-time").textContent = `${outcome.ms.toFixed(1)} ms`;
  const count = element("result-count");
  switch (outcome.kind) {
    case "error":
      count.textContent = "failed";
      element("error-code").textContent =
        outcome.extendedCode && outcome.extendedCode !== outcome.code
          ? `${outcome.code} (${outcome.extendedCode})`
          : outcome.code;
      element("error-message").textContent = outcome.message;
      return;
    case "script":
      count.textContent = "script ran";
      note.textContent = "Several statements ran; run one SELECT to see rows.";
      return;
    case "result": {
      const { result } = outcome;
      if (result.columns.length === 0) {
        count.textContent = plural(result.rowsAffected, "row affected", "rows affected");
        if (result.lastInsertRowid !== undefined && result.rowsAffected > 0) {
          note.textContent = `Last insert rowid: ${result.lastInsertRowid}`;
        }
        return;
      }
      count.textContent = plural(result.rows.length, "row", "rows");
      const head = table.createTHead().insertRow();
      for (const name of result.columns) head.appendChild(document.createElement("th")).textContent = name;
      const body = table.createTBody();
      for (const row of result.rows.slice(0, MAX_SHOWN_ROWS)) {
        const tr = body.insertRow();
        for (let i = 0; i < result.columns.length; i++) renderCell(tr.insertCell(), row[i] as Value);
      }
      if (result.rows.length > MAX_SHOWN_ROWS) note.textContent = `Showing the first ${MAX_SHOWN_ROWS} rows.`;
    }
  }
}

/** Shows that `target` is running. */
export function showRunning(target: string): void {
  element("result-target").textContent = target;
  element("result-count").textContent = "running…";
  element("result-time").textContent = "";
}

function renderCell(cell: HTMLTableCellElement, value: Value): void {
  if (value === null) {
    cell.textContent = "NULL";
    cell.className = "null";
  } else if (value instanceof ArrayBuffer) {
    const bytes = new Uint8Array(value, 0, Math.min(value.byteLength, BLOB_PREVIEW_BYTES));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    cell.textContent = `x'${hex}${value.byteLength > BLOB_PREVIEW_BYTES ? "…" : ""}' (${value.byteLength} bytes)`;
    cell.className = "blob";
  } else {
    cell.textContent = String(value);
    if (typeof value !== "string") cell.className = "number";
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
