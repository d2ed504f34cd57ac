import { LibsqlBatchError, LibsqlError } from "../src/errors.js";
import type {
  ArgValue,
  DescribeResult,
  IntMode,
  PackedArgs,
  ResultValue,
  RowsAhead,
  RunManyResult,
  StmtResult,
} from "../src/proto.js";
import { arrayRows, type RowFormat } from "./row-format.js";
import { bindArgs, bindValue } from "./sqlite/bind-args.js";
import { SQLITE } from "./sqlite/raw-exports.js";
import type { Sqlite } from "./sqlite/sqlite.js";
import { declaredTypes, parameterNames, type StatementLayout } from "./sqlite/statement-layout.js";

/** Values per batch of rows handed over ahead of a statement's result (see `run`). */
const ROWS_AHEAD_VALUES = 16384;

const READ_ONLY_BEGIN = /^\s*BEGIN\s+(TRANSACTION\s+)?READONLY\b/i;

/** Per-handle state statements share with their database. */
export interface SessionFlags {
  /** `PRAGMA query_only` was turned on for a read-only transaction. */
  queryOnly: boolean;
}

/** Positional or named arguments, as a statement takes them. */
export type Args = readonly ArgValue[] | Readonly<Record<string, ArgValue>> | undefined;

/** True for argument lists packed in a block (`PackedArgs`), rather than an array of lists. */
export function isPackedArgs(value: unknown): value is PackedArgs {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as PackedArgs).nextInt32 === "function" &&
    typeof (value as PackedArgs).count === "number"
  );
}

/**
 * One prepared `sqlite3_stmt`: binds, steps and reads rows through the raw C
 * API. Column names and declared types are cached until SQLite re-prepares
 * the statement after a schema change.
 */
export class PreparedStatement {
  readonly ptr: number;
  readonly sql: string;
  readonly #sqlite: Sqlite;
  readonly #db: number;
  readonly #layout: StatementLayout;
  readonly #beginsReadOnly: boolean;
  #columnsKey = -1;
  #columns: string[] = [];
  #columnTypes: string[] = [];

  readonly #session: SessionFlags;

  constructor(sqlite: Sqlite, db: number, layout: StatementLayout, session: SessionFlags, ptr: number, sql: string) {
    this.#session = session;
    this.#sqlite = sqlite;
    this.#db = db;
    this.#layout = layout;
    this.ptr = ptr;
    this.sql = sql;
    this.#beginsReadOnly = READ_ONLY_BEGIN.test(sql);
  }

  /**
   * Called before the statement steps. libSQL parses `BEGIN TRANSACTION
   * READONLY` but does not enforce it locally, so the engine turns on
   * `query_only` for the transaction (the database turns it off again when
   * the transaction ends).
   */
  beforeStep(): void {
    if (this.#beginsReadOnly && !this.#session.queryOnly) {
      const rc = this.#sqlite.x.sqlite3_exec(this.#db, this.#sqlite.encode("PRAGMA query_only=1"), 0, 0, 0);
      this.#sqlite.check(this.#db, rc);
      this.#session.queryOnly = true;
    }
  }

  /** Result column names and declared types. */
  columnInfo(): { columns: string[]; columnTypes: string[] } {
    const { x, i32 } = this.#sqlite;
    // aColName moves when SQLite re-prepares the statement (schema change).
    const key = i32[(this.ptr + this.#layout.colNameOffset) >> 2] as number;
    if (key !== this.#columnsKey) {
      const n = x.sqlite3_column_count(this.ptr);
      const columns = new Array<string>(n);
      for (let i = 0; i < n; i++) columns[i] = this.#sqlite.cstr(x.sqlite3_column_name(this.ptr, i));
      this.#columns = columns;
      // EXPLAIN output columns are not the statement's: SQLite names them from a static table.
      this.#columnTypes =
        x.sqlite3_stmt_isexplain(this.ptr) !== 0
          ? columns.map(() => "")
          : declaredTypes(this.#sqlite, this.#layout, this.ptr, n);
      this.#columnsKey = key;
    }
    return { columns: this.#columns, columnTypes: this.#columnTypes };
  }

  /** Parameter names by position, null for anonymous `?`. */
  params(): (string | null)[] {
    return parameterNames(this.#sqlite, this.#layout, this.ptr);
  }

  /** What `describe` reports for this statement. */
  describe(): DescribeResult {
    const { x } = this.#sqlite;
    return {
      params: this.params(),
      ...this.columnInfo(),
      isExplain: x.sqlite3_stmt_isexplain(this.ptr) !== 0,
      isReadonly: x.sqlite3_stmt_readonly(this.ptr) !== 0,
    };
  }

  /** True when running the statement does not write to the database. */
  get readonly(): boolean {
    return this.#sqlite.x.sqlite3_stmt_readonly(this.ptr) !== 0;
  }

  /** Binds `args` (or, when an object, named arguments); true when a large value was bound. */
  bind(args: Args): boolean {
    const named = args !== undefined && !Array.isArray(args);
    return bindArgs(
      this.#sqlite,
      this.#db,
      this.ptr,
      named ? undefined : (args as readonly ArgValue[] | undefined),
      named ? (args as Readonly<Record<string, ArgValue>>) : undefined,
      this,
    );
  }

  /**
   * Runs the statement to completion (or until `maxRows` rows were read) and
   * resets it. As `@libsql/client` reports local results, a statement that
   * returns rows has `rowsAffected` 0 and no `lastInsertRowid`. `format`
   * says how to hold the rows (arrays by default); `onRows` receives them
   * in batches of about `ROWS_AHEAD_VALUES` values while the statement runs,
   * and the result keeps the rest.
   */
  run<Rows = ResultValue[][]>(
    args: Args,
    intMode: IntMode,
    wantRows = true,
    maxRows = Number.POSITIVE_INFINITY,
    format: RowFormat<Rows> = arrayRows as unknown as RowFormat<Rows>,
    onRows?: RowsAhead<Rows>,
  ): StmtResult<Rows> {
    const { x } = this.#sqlite;
    const stmt = this.ptr;
    const db = this.#db;
    let large = false;
    try {
      large = this.bind(args);
      this.beforeStep();
      const n = x.sqlite3_column_count(stmt);
      const before = n === 0 ? x.sqlite3_total_changes(db) : 0;
      let collector = format.collect(n);
      const batch = onRows && n > 0 ? Math.ceil(ROWS_AHEAD_VALUES / n) : Number.POSITIVE_INFINITY;
      let read = 0;
      for (;;) {
        const rc = x.sqlite3_step(stmt);
        if (rc === SQLITE.ROW) {
          if (!wantRows) continue;
          collector.add(this.#sqlite, stmt, intMode);
          if (++read >= maxRows) break;
          if (collector.count >= batch) {
            (onRows as RowsAhead<Rows>)(collector.finish(), this.columnInfo().columns);
            collector = format.collect(n);
          }
        } else if (rc === SQLITE.DONE) {
          break;
        } else {
          throw this.#sqlite.error(db, rc);
        }
      }
      const { columns, columnTypes } = this.columnInfo();
      const rows = collector.finish();
      if (n > 0) return { columns, columnTypes, rows, rowsAffected: 0, lastInsertRowid: undefined };
      return {
        columns,
        columnTypes,
        rows,
        // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so
        // DDL after a write would report it again; count only what this step did.
        rowsAffected: x.sqlite3_total_changes(db) !== before ? x.sqlite3_changes(db) : 0,
        lastInsertRowid: x.sqlite3_last_insert_rowid(db),
      };
    } finally {
      x.sqlite3_reset(stmt);
      if (large) x.sqlite3_clear_bindings(stmt);
    }
  }

  /**
   * Runs the statement once per argument list, discarding rows: the bulk
   * path (one bind, step and reset per list, no result objects). The caller
   * makes it atomic. A failure names the list it came from.
   */
  runMany(argsList: readonly Args[] | PackedArgs): RunManyResult {
    const { x } = this.#sqlite;
    const stmt = this.ptr;
    const db = this.#db;
    const before = x.sqlite3_total_changes(db);
    // A positional list as long as the statement's parameters binds value by
    // value (packed ones straight from their block); anything else goes
    // through bind()'s checks (and its errors).
    const count = x.sqlite3_bind_parameter_count(stmt);
    const sqlite = this.#sqlite;
    const packed = isPackedArgs(argsList) ? argsList : undefined;
    const lists = packed ? packed.count : (argsList as readonly Args[]).length;
    // Packed text is bound from one copy of all of it in the heap, kept until the bindings are cleared.
    const text = packed?.text ? sqlite.copyIn(packed.text.length > 0 ? packed.text : new Uint8Array(1)) : 0;
    let large = false;
    this.beforeStep();
    try {
      for (let i = 0; i < lists; i++) {
        large = this.#runOne(i, packed, argsList as readonly Args[], count, text) || large;
      }
    } finally {
      // Text bound from `text` points into it (and large values hold SQLite's copies): unbind before freeing.
      if (text !== 0 || large) x.sqlite3_clear_bindings(stmt);
      if (text !== 0) x.sqlite3_free(text);
    }
    return {
      rowsAffected: x.sqlite3_total_changes(db) - before,
      lastInsertRowid: lists > 0 ? x.sqlite3_last_insert_rowid(db) : undefined,
    };
  }

  /** Binds list `i` (the next one of `packed`, or `argsList[i]`), runs it and resets; true when a large value was bound. */
  #runOne(i: number, packed: PackedArgs | undefined, argsList: readonly Args[], count: number, text: number): boolean {
    const sqlite = this.#sqlite;
    const { x } = sqlite;
    const stmt = this.ptr;
    const db = this.#db;
    let large = false;
    try {
      if (packed && packed.width === count) {
        for (let p = 1; p <= count; p++) {
          const start = packed.nextText();
          let rc: number;
          if (start >= 0) {
            rc = x.sqlite3_bind_text(stmt, p, text + start, packed.textEnd - start, SQLITE.STATIC);
          } else {
            const int = packed.nextInt32();
            if (Number.isNaN(int)) {
              large = bindValue(sqlite, db, stmt, p, packed.next()) || large;
              continue;
            }
            rc = x.sqlite3_bind_int(stmt, p, int);
          }
          if (rc !== SQLITE.OK) throw sqlite.error(db, rc);
        }
      } else if (packed) {
        const args = new Array<ArgValue>(packed.width);
        for (let p = 0; p < packed.width; p++) args[p] = packed.next();
        large = this.bind(args);
      } else {
        const args = argsList[i];
        if (Array.isArray(args) && args.length === count) {
          for (let p = 0; p < count; p++) large = bindValue(sqlite, db, stmt, p + 1, args[p]) || large;
        } else {
          large = this.bind(args);
        }
      }
      let rc = x.sqlite3_step(stmt);
      while (rc === SQLITE.ROW) rc = x.sqlite3_step(stmt);
      if (rc !== SQLITE.DONE) throw sqlite.error(db, rc);
      return large;
    } catch (error) {
      if (!(error instanceof LibsqlError)) throw error;
      throw new LibsqlBatchError(error.message, i, error.code, error.extendedCode, error.rawCode);
    } finally {
      x.sqlite3_reset(stmt);
    }
  }

  /** Finalises the statement; it must not be used afterwards. */
  finalize(): void {
    this.#sqlite.x.sqlite3_finalize(this.ptr);
  }
}
