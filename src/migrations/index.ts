/**
 * `libsql-web/migrations`: a versioned migration runner for applications
 * without an ORM, and SQLite's table-recreation procedure as a helper.
 *
 * @example
 * import { migrate, recreateTable } from "libsql-web/migrations";
 * const { applied, version } = await migrate(client, migrations);
 */
export { appliedMigrations, migrate } from "./migrate.js";
export type {
  AppliedMigration,
  MigrateOptions,
  MigrateResult,
  Migration,
  MigrationBody,
  MigrationPlan,
} from "./migration.js";
export { MigrationError, MigrationErrorCode } from "./migration-error.js";
export { quoteIdentifier } from "./quote-identifier.js";
export { type RecreateTableSpec, recreateTable } from "./recreate-table.js";
export { splitStatements } from "./split-statements.js";
