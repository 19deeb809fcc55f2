/**
 * ClickHouse migrations: versioned files topology/clickhouse/NNN_name.sql, applied in order and recorded
 * in the target database's schema_migrations table. An applied file is never edited: its checksum is
 * compared on every run, and a new change is a new file. ClickHouse has no transactions, so every
 * statement must be safe to run again (CREATE ... IF NOT EXISTS; 18.16 has no ADD COLUMN IF NOT EXISTS,
 * so an ALTER goes in a file of its own): a file that failed half-way is re-run from its start.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClickHouseClient,
  execSql,
  ident,
  querySql,
  SqlFragment,
  sql,
} from '../services/lib/clickhouse.ts';
import { splitStatements } from './sql-split.ts';

export const MIGRATIONS_DIR = join(import.meta.dirname, 'clickhouse');

export interface Migration {
  version: number;
  name: string;
  /** sha256 of the file's bytes. */
  checksum: string;
  statements: string[];
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Reads and checks the migration files: NNN_name.sql, versions unique, sorted by version. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE.exec(file);
    if (!m?.[1] || !m[2]) throw new Error(`migration file ${file} is not named NNN_name.sql`);
    const version = Number(m[1]);
    if (migrations.some((x) => x.version === version)) throw new Error(`two migrations have version ${m[1]}`);
    const text = readFileSync(join(dir, file), 'utf8');
    const statements = splitStatements(text);
    if (statements.length === 0) throw new Error(`migration ${file} holds no statement`);
    migrations.push({
      version,
      name: m[2],
      checksum: createHash('sha256').update(text).digest('hex'),
      statements,
    });
  }
  return migrations;
}

export function migrationLabel(m: Pick<Migration, 'version' | 'name'>): string {
  return `${String(m.version).padStart(3, '0')}_${m.name}`;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export class MigrationError extends Error {}

/**
 * Which files still need applying. Fails if an applied migration's file changed or disappeared: the
 * database would no longer match the files, and guessing which one is right could lose data.
 */
export function pendingMigrations(files: readonly Migration[], applied: readonly AppliedRow[]): Migration[] {
  const done = new Map<number, AppliedRow>();
  for (const row of applied) if (!done.has(row.version)) done.set(row.version, row);
  for (const row of done.values()) {
    const file = files.find((f) => f.version === row.version);
    const label = migrationLabel(row);
    if (!file) throw new MigrationError(`migration ${label} was applied but its file is gone`);
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${label} was changed after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); add a new migration instead`,
      );
    }
  }
  return files.filter((f) => !done.has(f.version));
}

export interface MigrateOptions {
  dryRun?: boolean;
  migrations?: Migration[];
}

/**
 * Creates the database and schema_migrations if missing, then applies pending migrations in order.
 * `server` may point at any database; `target` must point at `database`, where the files' unqualified
 * names resolve. Returns what it did (or, dry, would do), one line each.
 */
export async function migrate(
  server: ClickHouseClient,
  target: ClickHouseClient,
  database: string,
  options: MigrateOptions = {},
): Promise<string[]> {
  const files = options.migrations ?? loadMigrations();
  const dryRun = options.dryRun ?? false;
  const actions: string[] = [];
  const table = ident(database, 'schema_migrations');

  const databases = await querySql(server, sql`SELECT name FROM system.databases WHERE name = ${database}`);
  if (databases.length === 0) {
    actions.push(`created database ${database}`);
    if (!dryRun) await execSql(server, sql`CREATE DATABASE IF NOT EXISTS ${ident(database)}`);
  }
  const tables = await querySql(
    server,
    sql`SELECT name FROM system.tables WHERE database = ${database} AND name = 'schema_migrations'`,
  );
  if (tables.length === 0 && !dryRun) {
    await execSql(
      server,
      sql`CREATE TABLE IF NOT EXISTS ${table} (version UInt32, name String, checksum String, applied_at DateTime('UTC'))
          ENGINE = MergeTree ORDER BY version`,
    );
  }
  const applied =
    tables.length === 0
      ? []
      : await querySql<AppliedRow>(
          server,
          sql`SELECT version, name, checksum FROM ${table} ORDER BY version, applied_at`,
        );

  for (const m of pendingMigrations(files, applied)) {
    actions.push(`applied migration ${migrationLabel(m)}`);
    if (dryRun) continue;
    for (const [i, statement] of m.statements.entries()) {
      try {
        await execSql(target, new SqlFragment(statement));
      } catch (err) {
        throw new MigrationError(
          `migration ${migrationLabel(m)}, statement ${i + 1} of ${m.statements.length}, failed: ${(err as Error).message}`,
        );
      }
    }
    await execSql(
      server,
      sql`INSERT INTO ${table} (version, name, checksum, applied_at) VALUES (${m.version}, ${m.name}, ${m.checksum}, ${new Date()})`,
    );
  }
  return actions;
}
