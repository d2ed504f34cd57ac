import { LibsqlError } from "../errors.js";

/** Error codes of the migration runner. */
export const MigrationErrorCode = {
  /** The list itself is wrong: versions not increasing, empty names, unknown body. */
  MIGRATION_INVALID: "MIGRATION_INVALID",
  /** A migration failed and was rolled back; the database stays at the version before it. */
  MIGRATION_FAILED: "MIGRATION_FAILED",
  /** The database's history does not match the list: an unknown, renamed, edited or skipped migration. */
  MIGRATION_MISMATCH: "MIGRATION_MISMATCH",
} as const;

/**
 * A failure of the migration runner. For `MIGRATION_FAILED`, `version` and
 * `migrationName` name the migration, `statementIndex` the failing statement
 * of an SQL migration (0-based, when known), `cause` the underlying
 * `LibsqlError`, and `databaseVersion` the version the database stays at.
 */
export class MigrationError extends LibsqlError {
  /** Version of the migration concerned, if one is. */
  readonly version: number | undefined;
  /** Name of the migration concerned, if one is. */
  readonly migrationName: string | undefined;
  /** 0-based index of the failing statement within an SQL migration, when known. */
  readonly statementIndex: number | undefined;
  /** The version the database is at after the failure. */
  readonly databaseVersion: number | undefined;

  constructor(
    message: string,
    code: keyof typeof MigrationErrorCode,
    details: {
      version?: number;
      name?: string;
      statementIndex?: number;
      databaseVersion?: number;
      cause?: unknown;
    } = {},
  ) {
    const cause = details.cause;
    super(
      message,
      code,
      cause instanceof LibsqlError ? cause.extendedCode : undefined,
      cause instanceof LibsqlError ? cause.rawCode : undefined,
      cause,
    );
    this.name = "MigrationError";
    this.version = details.version;
    this.migrationName = details.name;
    this.statementIndex = details.statementIndex;
    this.databaseVersion = details.databaseVersion;
  }
}
