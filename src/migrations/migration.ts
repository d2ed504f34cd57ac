import type { Executor, InStatement, Transaction } from "../api.js";

/**
 * Statements worked out when the migration runs, from what the database holds
 * then (e.g. the indexes of a table to recreate). They run like an SQL
 * migration: atomically, with foreign keys off. `recreateTable()` returns one.
 */
export interface MigrationPlan {
  /** Reads what it needs through `db` and returns the statements to run. */
  plan(db: Pick<Executor, "execute">): Promise<InStatement[]>;
}

/**
 * What a migration does:
 * - SQL text (a script, split into statements) or a list of statements: run
 *   in one transaction with foreign keys off, as `client.migrate()` runs them;
 * - a `MigrationPlan`: statements computed at run time, run the same way;
 * - a function: runs inside a write transaction with foreign keys still
 *   enforced but deferred to the end (see `migrate`), for data changes
 *   computed in JavaScript.
 */
export type MigrationBody = string | readonly InStatement[] | MigrationPlan | ((tx: Transaction) => Promise<void>);

/** One versioned migration. */
export interface Migration {
  /** A positive integer; versions must increase along the list. */
  version: number;
  /** A short name, recorded with the version and shown in errors. */
  name: string;
  /** What the migration does. */
  up: MigrationBody;
}

/** Options of `migrate`. */
export interface MigrateOptions {
  /** Table that records applied migrations (default `libsql_web_migrations`). */
  table?: string;
  /** Apply migrations up to and including this version only (default: all). */
  to?: number;
  /**
   * Refuse to run when an applied SQL migration's text changed since (default
   * true): the database would not match what the list describes.
   */
  verifyChecksums?: boolean;
  /**
   * How long to keep retrying, in ms, while another client holds the database
   * lock (`SQLITE_BUSY`), e.g. a second process migrating the same file
   * (default 60 000).
   */
  lockTimeoutMs?: number;
}

/** A migration as recorded in the migrations table. */
export interface AppliedMigration {
  version: number;
  name: string;
  /** SHA-256 of an SQL migration's text; null for plans and functions. */
  checksum: string | null;
  /** When it was applied (ISO-8601, UTC). */
  appliedAt: string;
}

/** What `migrate` did. */
export interface MigrateResult {
  /** Migrations this call applied, in order (those another client applied meanwhile are not listed). */
  applied: Array<{ version: number; name: string }>;
  /** The database's version afterwards (0 before any migration). */
  version: number;
}
