import type { Client, InStatement, Transaction } from "../api.js";
import { LibsqlError } from "../errors.js";
import { checksum } from "./checksum.js";
import type { AppliedMigration, MigrateOptions, MigrateResult, Migration, MigrationPlan } from "./migration.js";
import { MigrationError } from "./migration-error.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { splitStatements } from "./split-statements.js";

const DEFAULT_TABLE = "libsql_web_migrations";
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

type Outcome = "applied" | "already applied";

function isPlan(up: Migration["up"]): up is MigrationPlan {
  return (
    typeof up === "object" && up !== null && !Array.isArray(up) && typeof (up as MigrationPlan).plan === "function"
  );
}

function isSql(up: Migration["up"]): up is string | readonly InStatement[] {
  return typeof up === "string" || Array.isArray(up);
}

function label(m: Pick<Migration, "version" | "name">): string {
  return `migration ${m.version} "${m.name}"`;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error ? (error as { code?: string }).code : undefined;
}

function statementIndexOf(error: unknown): number | undefined {
  const index = (error as { statementIndex?: unknown })?.statementIndex;
  return typeof index === "number" ? index : undefined;
}

function validate(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations))
    throw new MigrationError("migrate expects an array of migrations", "MIGRATION_INVALID");
  let previous = 0;
  for (const [i, m] of migrations.entries()) {
    const where = `migration at index ${i}`;
    if (!Number.isSafeInteger(m?.version) || m.version < 1) {
      throw new MigrationError(`${where}: version must be a positive integer`, "MIGRATION_INVALID");
    }
    if (m.version <= previous) {
      throw new MigrationError(`${where}: version ${m.version} does not follow ${previous}`, "MIGRATION_INVALID");
    }
    if (typeof m.name !== "string" || m.name.trim() === "") {
      throw new MigrationError(`${where}: name must be a non-empty string`, "MIGRATION_INVALID");
    }
    if (!isSql(m.up) && !isPlan(m.up) && typeof m.up !== "function") {
      throw new MigrationError(
        `${label(m)}: up must be SQL text, a list of statements, a plan or a function`,
        "MIGRATION_INVALID",
      );
    }
    previous = m.version;
  }
}

/**
 * Applies the pending migrations of `migrations`, in order, each in its own
 * transaction, and records each in a table (`libsql_web_migrations` unless
 * `options.table` says otherwise).
 *
 * - SQL migrations (text, statements or a plan) run through `client.migrate()`
 *   as `@libsql/client` runs them: foreign keys off around one transaction.
 *   Before COMMIT the runner checks `PRAGMA foreign_key_check` and rolls back
 *   if the migration left a dangling reference.
 * - Function migrations run in a write transaction with foreign keys deferred
 *   (`PRAGMA defer_foreign_keys`) and the same check before commit; foreign
 *   keys cannot be switched off inside a transaction, so rebuild referenced
 *   tables with an SQL migration or `recreateTable()`.
 * - A failure throws a `MigrationError` (`MIGRATION_FAILED`) naming the
 *   migration and statement; that migration is rolled back and the database
 *   stays at the last good version.
 * - Running again applies nothing new. Two clients (or processes) migrating
 *   one database at once never apply a migration twice: each migration first
 *   records its version, so the second client waits for the lock and then
 *   finds the work done.
 *
 * @example
 * import { migrate } from "libsql-web/migrations";
 * await migrate(client, [
 *   { version: 1, name: "users", up: "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);" },
 *   { version: 2, name: "posts", up: "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));" },
 * ]);
 */
export async function migrate(
  client: Client,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  validate(migrations);
  const table = quoteIdentifier(options.table ?? DEFAULT_TABLE);
  const deadline = Date.now() + (options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const target = options.to ?? Number.POSITIVE_INFINITY;

  await whileBusy(deadline, "creating the migrations table", () =>
    client.execute(
      `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT, applied_at TEXT NOT NULL)`,
    ),
  );
  const sums = new Map<number, string | null>();
  for (const m of migrations) sums.set(m.version, isSql(m.up) ? await checksum(m.up) : null);
  const verify = (record: AppliedMigration) => checkRecord(record, migrations, sums, options.verifyChecksums ?? true);

  const history = await whileBusy(deadline, "reading the migrations table", () => appliedMigrations(client, options));
  history.forEach(verify);
  const done = new Set(history.map((r) => r.version));
  let version = Math.max(0, ...done);
  for (const m of migrations) {
    if (!done.has(m.version) && m.version < version) {
      throw new MigrationError(
        `${label(m)} was never applied, but the database is already at version ${version}`,
        "MIGRATION_MISMATCH",
        { version: m.version, name: m.name, databaseVersion: version },
      );
    }
  }

  const applied: MigrateResult["applied"] = [];
  for (const m of migrations) {
    if (m.version > target) break;
    if (done.has(m.version)) continue;
    const record = { version: m.version, name: m.name, checksum: sums.get(m.version) ?? null };
    const outcome = await whileBusy(deadline, label(m), () => apply(client, table, m, record, version));
    if (outcome === "applied") {
      applied.push({ version: m.version, name: m.name });
    } else {
      const theirs = (await appliedMigrations(client, options)).find((r) => r.version === m.version);
      if (theirs) verify(theirs);
    }
    version = m.version;
  }
  return { applied, version };
}

/**
 * The migrations recorded in a database, oldest first (empty if the table does
 * not exist yet).
 *
 * @example
 * const history = await appliedMigrations(client);
 */
export async function appliedMigrations(
  client: Pick<Client, "execute">,
  options: Pick<MigrateOptions, "table"> = {},
): Promise<AppliedMigration[]> {
  const name = options.table ?? DEFAULT_TABLE;
  const exists = await client.execute({
    sql: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
    args: [name],
  });
  if (exists.rows.length === 0) return [];
  const rs = await client.execute(
    `SELECT version, name, checksum, applied_at FROM ${quoteIdentifier(name)} ORDER BY version`,
  );
  return rs.rows.map((r) => ({
    version: Number(r.version),
    name: String(r.name),
    checksum: r.checksum === null ? null : String(r.checksum),
    appliedAt: String(r.applied_at),
  }));
}

/** Throws `MIGRATION_MISMATCH` if a recorded migration is not the list's migration of that version. */
function checkRecord(
  record: AppliedMigration,
  migrations: readonly Migration[],
  sums: ReadonlyMap<number, string | null>,
  verifyChecksums: boolean,
): void {
  const m = migrations.find((x) => x.version === record.version);
  const details = { version: record.version, name: record.name };
  if (!m) {
    throw new MigrationError(
      `the database has ${label(record)}, which the list does not have (was it applied by a newer version of the application?)`,
      "MIGRATION_MISMATCH",
      details,
    );
  }
  if (m.name !== record.name) {
    throw new MigrationError(
      `the database recorded migration ${record.version} as "${record.name}", the list calls it "${m.name}"`,
      "MIGRATION_MISMATCH",
      details,
    );
  }
  const sum = sums.get(m.version);
  if (verifyChecksums && record.checksum && sum && record.checksum !== sum) {
    throw new MigrationError(
      `${label(m)} changed after it was applied; add a new migration instead of editing it (or pass verifyChecksums: false)`,
      "MIGRATION_MISMATCH",
      details,
    );
  }
}

/** Runs `body`, again and again while another client holds the database lock, until `deadline`. */
async function whileBusy<T>(deadline: number, what: string, body: () => Promise<T>): Promise<T> {
  for (let wait = 25; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await body();
    } catch (error) {
      if (error instanceof MigrationError || codeOf(error) !== "SQLITE_BUSY") throw error;
      if (Date.now() + wait > deadline) {
        throw new MigrationError(
          `${what}: the database stayed locked by another client; gave up waiting`,
          "MIGRATION_FAILED",
          {
            cause: error,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

interface VersionRecord {
  version: number;
  name: string;
  checksum: string | null;
}

function guard(table: string, record: VersionRecord): InStatement {
  return {
    sql: `INSERT INTO ${table} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`,
    args: [BigInt(record.version), record.name, record.checksum, new Date().toISOString()],
  };
}

/** True for the guard's failure when another client recorded the version first. */
function alreadyRecorded(error: unknown): boolean {
  return codeOf(error) === "SQLITE_CONSTRAINT";
}

async function apply(
  client: Client,
  table: string,
  m: Migration,
  record: VersionRecord,
  previous: number,
): Promise<Outcome> {
  const fail = (message: string, cause?: unknown, statementIndex?: number) =>
    new MigrationError(`${label(m)} failed${message}; the database stays at version ${previous}`, "MIGRATION_FAILED", {
      version: m.version,
      name: m.name,
      statementIndex,
      databaseVersion: previous,
      cause,
    });
  if (typeof m.up === "function") return applyFunction(client, table, m.up, record, fail);

  let statements: InStatement[];
  try {
    statements = typeof m.up === "string" ? splitStatements(m.up) : isPlan(m.up) ? await m.up.plan(client) : [...m.up];
  } catch (error) {
    throw fail(` while planning: ${(error as Error)?.message ?? error}`, error);
  }
  // Fails (NOT NULL) only when foreign_key_check reports a row, so the batch rolls back.
  const foreignKeyCheck: InStatement = {
    sql: `UPDATE ${table} SET applied_at = NULL WHERE version = ? AND EXISTS (SELECT 1 FROM pragma_foreign_key_check)`,
    args: [BigInt(m.version)],
  };
  try {
    await client.migrate([guard(table, record), ...statements, foreignKeyCheck]);
    return "applied";
  } catch (error) {
    const index = statementIndexOf(error);
    if (index === 0 && alreadyRecorded(error)) return "already applied";
    if (index === 0 || index === undefined) {
      if (codeOf(error) === "SQLITE_BUSY") throw error;
      throw fail(`: ${(error as Error)?.message ?? error}`, error);
    }
    if (index === statements.length + 1) {
      throw fail(": it left rows whose foreign keys point nowhere (see PRAGMA foreign_key_check)", error);
    }
    const stmt = statements[index - 1] as InStatement;
    const sql = (typeof stmt === "string" ? stmt : stmt.sql).replace(/\s+/g, " ").trim();
    const excerpt = sql.length > 80 ? `${sql.slice(0, 77)}...` : sql;
    throw fail(` at statement ${index - 1} (${excerpt}): ${(error as Error)?.message ?? error}`, error, index - 1);
  }
}

async function applyFunction(
  client: Client,
  table: string,
  up: (tx: Transaction) => Promise<void>,
  record: VersionRecord,
  fail: (message: string, cause?: unknown) => MigrationError,
): Promise<Outcome> {
  const tx = await client.transaction("write");
  try {
    try {
      await tx.execute(guard(table, record));
    } catch (error) {
      if (alreadyRecorded(error)) return "already applied";
      throw error;
    }
    await tx.execute("PRAGMA defer_foreign_keys = ON");
    try {
      await up(tx);
    } catch (error) {
      throw fail(`: ${(error as Error)?.message ?? error}`, error);
    }
    const dangling = await tx.execute("SELECT * FROM pragma_foreign_key_check LIMIT 5");
    if (dangling.rows.length > 0) {
      const rows = dangling.rows.map((r) => `${r.table} row ${r.rowid} → ${r.parent}`).join(", ");
      throw fail(`: it left rows whose foreign keys point nowhere (${rows})`);
    }
    await tx.commit();
    return "applied";
  } catch (error) {
    if (error instanceof MigrationError || codeOf(error) === "SQLITE_BUSY") throw error;
    throw error instanceof LibsqlError ? fail(`: ${error.message}`, error) : error;
  } finally {
    if (!tx.closed) await tx.rollback().catch(() => {});
    tx.close();
  }
}
