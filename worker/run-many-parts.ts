import { ErrorCode, LibsqlBatchError, LibsqlError } from "../src/errors.js";
import type { RunManyPart } from "../src/proto.js";
import type { Connection } from "./connection.js";

/** A `runMany` sent whole. */
export const WHOLE: RunManyPart = { first: true, last: true, offset: 0 };

const SAVEPOINT = "libsql_web_run_many";

/**
 * Before a part of a `runMany` runs on `c`: the first opens the savepoint
 * that makes the runs atomic (inside a transaction or, outside one, as
 * one); a later part must follow the one before it, and fails unrun once a
 * part failed (or went missing, which undoes the runs before it). An
 * abandoning part undoes the runs before it and ends the `runMany`.
 */
export function startPart(c: Connection, part: RunManyPart): void {
  const bulk = c.bulk;
  if (part.abandon) {
    if (bulk !== undefined && bulk.failed === undefined) undo(c);
    c.bulk = undefined;
    throw new LibsqlError("runMany was abandoned: the page could not make all its lists", ErrorCode.MISUSE);
  }
  if (part.first) {
    if (bulk) throw new LibsqlError("another runMany is still sending its parts on this connection", ErrorCode.MISUSE);
    c.db.exec(`SAVEPOINT ${SAVEPOINT}`);
    return;
  }
  if (!bulk) throw new LibsqlError("a part of runMany came without its first part", ErrorCode.MISUSE);
  if (bulk.failed === undefined && bulk.next !== part.offset) {
    undo(c);
    bulk.failed = new LibsqlError(
      `runMany lost its lists from ${bulk.next} to ${part.offset - 1} on their way; none was kept`,
      ErrorCode.INTERNAL_ERROR,
    );
  }
  if (bulk.failed !== undefined) {
    if (part.last) c.bulk = undefined;
    throw bulk.failed;
  }
}

/** After a part ran its `lists` lists: the last releases the savepoint, any other waits for the next part. */
export function finishPart(c: Connection, part: RunManyPart, lists: number): void {
  if (part.last) c.db.exec(`RELEASE ${SAVEPOINT}`);
  c.bulk = part.last ? undefined : { next: part.offset + lists, failed: undefined };
}

/**
 * A part failed with `error`: every run of this `runMany` is undone, the
 * parts still to come will fail with the error returned, whose
 * `statementIndex` counts from the start of the whole `runMany`.
 */
export function failPart(c: Connection, part: RunManyPart, error: unknown): unknown {
  undo(c);
  const failed =
    part.offset === 0 || !(error instanceof LibsqlBatchError)
      ? error
      : new LibsqlBatchError(
          error.message,
          error.statementIndex + part.offset,
          error.code,
          error.extendedCode,
          error.rawCode,
          error.cause,
        );
  c.bulk = part.last ? undefined : { next: Number.NaN, failed };
  return failed;
}

function undo(c: Connection): void {
  c.db.exec(`ROLLBACK TO ${SAVEPOINT}`);
  c.db.exec(`RELEASE ${SAVEPOINT}`);
}
