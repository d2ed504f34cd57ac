import type { BatchResult, CursorChunk, CursorEntry } from "../proto.js";
import type { TransportCursor } from "../transport.js";

/**
 * A cursor over a batch result already in memory: Hrana 2 has no cursor
 * endpoint, so over it `cursor()` and `iterate()` run the batch in one request
 * and hand its rows out in chunks. Same entries as a streamed cursor, without
 * the flat memory.
 */
export function bufferedCursor(result: BatchResult): TransportCursor {
  const entries: CursorEntry[] = [];
  result.stepResults.forEach((stepResult, step) => {
    const error = result.stepErrors[step];
    if (error) {
      entries.push({ type: "step_error", step, error });
    } else if (stepResult) {
      entries.push({ type: "step_begin", step, columns: stepResult.columns, columnTypes: stepResult.columnTypes });
      if (stepResult.rows.length > 0) entries.push({ type: "rows", rows: stepResult.rows });
      entries.push({
        type: "step_end",
        rowsAffected: stepResult.rowsAffected,
        lastInsertRowid: stepResult.lastInsertRowid,
      });
    }
  });
  let rowOffset = 0;
  let position = 0;
  return {
    async fetch(maxRows: number): Promise<CursorChunk> {
      const chunk: CursorEntry[] = [];
      let budget = Math.max(1, maxRows);
      while (position < entries.length && budget > 0) {
        const entry = entries[position] as CursorEntry;
        if (entry.type !== "rows") {
          chunk.push(entry);
          position++;
          continue;
        }
        const rows = entry.rows.slice(rowOffset, rowOffset + budget);
        chunk.push({ type: "rows", rows });
        budget -= rows.length;
        rowOffset += rows.length;
        if (rowOffset >= entry.rows.length) {
          position++;
          rowOffset = 0;
        }
      }
      return { entries: chunk, done: position >= entries.length };
    },
    async close(): Promise<void> {
      position = entries.length;
    },
  };
}
