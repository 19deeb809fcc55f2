/**
 * The migration runner against real ClickHouse: order, one record per migration, a failure half-way
 * through a file, and the re-run after it is fixed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, execSql, ident, querySql, sql } from '../../services/lib/clickhouse.ts';
import { BaseConfig, loadConfig } from '../../services/lib/config.ts';
import { loadMigrations, MigrationError, migrate } from '../../topology/migrations.ts';
import { isolatedPrefix } from '../support/isolated.ts';

const database = `${isolatedPrefix('migrations')}_leedrush`;
const config = loadConfig(BaseConfig, { ...process.env, CLICKHOUSE_DATABASE: database });
const server = createClickHouse(config, { database: 'default' });
const target = createClickHouse(config);

afterAll(async () => {
  await execSql(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await Promise.all([server.close(), target.close()]);
});

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const first =
  'CREATE TABLE IF NOT EXISTS a (x UInt32) ENGINE = MergeTree ORDER BY x;\nINSERT INTO a VALUES (1)';
const createB = 'CREATE TABLE IF NOT EXISTS b (y String) ENGINE = MergeTree ORDER BY y';
const brokenSecond = `${createB};\nSELECT no_such_function();\nCREATE TABLE IF NOT EXISTS c (z String) ENGINE = MergeTree ORDER BY z`;
const fixedSecond = `${createB};\nCREATE TABLE IF NOT EXISTS c (z String) ENGINE = MergeTree ORDER BY z`;

async function recorded(): Promise<Array<{ version: number; name: string }>> {
  return querySql(
    server,
    sql`SELECT version, name FROM ${ident(database, 'schema_migrations')} ORDER BY version`,
  );
}

describe('migrate on real ClickHouse', () => {
  it('applies files in order and records each once', async () => {
    const migrations = loadMigrations(dirWith({ '001_a.sql': first }));
    expect(await migrate(server, target, database, { migrations })).toEqual([
      `created database ${database}`,
      'applied migration 001_a',
    ]);
    expect(await migrate(server, target, database, { migrations })).toEqual([]);
    expect(await recorded()).toEqual([{ version: 1, name: 'a' }]);
    expect(await querySql(target, sql`SELECT x FROM a`)).toEqual([{ x: 1 }]);
  });

  it('stops at a failing statement, names it, and records nothing for that file', async () => {
    const migrations = loadMigrations(dirWith({ '001_a.sql': first, '002_b.sql': brokenSecond }));
    const run = migrate(server, target, database, { migrations });
    await expect(run).rejects.toBeInstanceOf(MigrationError);
    await expect(run).rejects.toThrow(/migration 002_b, statement 2 of 3, failed/);
    expect(await recorded()).toEqual([{ version: 1, name: 'a' }]);
  });

  it('re-runs a fixed file from its start: its statements are written to be re-runnable', async () => {
    const migrations = loadMigrations(dirWith({ '001_a.sql': first, '002_b.sql': fixedSecond }));
    expect(await migrate(server, target, database, { migrations })).toEqual(['applied migration 002_b']);
    expect(await recorded()).toEqual([
      { version: 1, name: 'a' },
      { version: 2, name: 'b' },
    ]);
    const tables = await querySql<{ name: string }>(
      server,
      sql`SELECT name FROM system.tables WHERE database = ${database} AND name IN ('b', 'c') ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual(['b', 'c']);
  });

  it('applies the shipped migrations on top, and a second run changes nothing', async () => {
    const shipped = loadMigrations().map((m) => ({ ...m, version: m.version + 100 }));
    const migrations = [
      ...loadMigrations(dirWith({ '001_a.sql': first, '002_b.sql': fixedSecond })),
      ...shipped,
    ];
    const actions = await migrate(server, target, database, { migrations });
    expect(actions).toEqual(shipped.map((m) => `applied migration ${m.version}_${m.name}`));
    expect(await migrate(server, target, database, { migrations })).toEqual([]);
    const tables = await querySql<{ name: string }>(
      server,
      sql`SELECT name FROM system.tables WHERE database = ${database} AND name = 'leads'`,
    );
    expect(tables).toHaveLength(1);
  });
});
