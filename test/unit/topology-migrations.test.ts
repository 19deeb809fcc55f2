import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrations, MigrationError, pendingMigrations } from '../../topology/migrations.ts';
import { splitStatements } from '../../topology/sql-split.ts';

describe('splitStatements', () => {
  it('splits on semicolons and drops empty statements and comments', () => {
    expect(
      splitStatements(
        '-- head\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\n;  SELECT 1 /* c; */ ;\n-- tail;',
      ),
    ).toEqual(['CREATE TABLE a (x UInt8) ENGINE = Memory', 'SELECT 1']);
  });

  it('keeps semicolons and comment markers inside quotes, honouring backslash and doubled quotes', () => {
    const src = "SELECT 'a;b', 'it\\'s; -- no', 'x'';y', `we;ird`, \"q;\" FROM t; SELECT 2";
    expect(splitStatements(src)).toEqual([
      "SELECT 'a;b', 'it\\'s; -- no', 'x'';y', `we;ird`, \"q;\" FROM t",
      'SELECT 2',
    ]);
  });

  it('rejects unterminated quotes and comments instead of guessing', () => {
    expect(() => splitStatements("SELECT 'abc")).toThrow(/unterminated/);
    expect(() => splitStatements('SELECT 1 /* open')).toThrow(/unterminated/);
  });

  it('reads the shipped migrations as whole CREATE statements', () => {
    const [first] = loadMigrations();
    expect(first?.version).toBe(1);
    expect(first?.statements.every((s) => s.startsWith('CREATE TABLE IF NOT EXISTS'))).toBe(true);
    const tables = first?.statements.map((s) => /CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1]);
    expect(tables).toEqual([
      'leads',
      'rejections',
      'batches',
      'usage_events',
      'enrichment_calls',
      'webhook_deliveries',
    ]);
  });
});

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('loadMigrations', () => {
  it('orders by version and checksums the bytes', () => {
    const dir = dirWith({ '002_b.sql': 'SELECT 2', '001_a.sql': 'SELECT 1; SELECT 11', 'README.md': 'x' });
    const ms = loadMigrations(dir);
    expect(ms.map((m) => [m.version, m.name, m.statements.length])).toEqual([
      [1, 'a', 2],
      [2, 'b', 1],
    ]);
    expect(ms[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(ms[0]?.checksum).not.toBe(
      loadMigrations(dirWith({ '001_a.sql': 'SELECT 1; SELECT 12' }))[0]?.checksum,
    );
  });

  it('refuses badly named, duplicate-version and empty files', () => {
    expect(() => loadMigrations(dirWith({ '1_a.sql': 'SELECT 1' }))).toThrow(/NNN_name/);
    expect(() => loadMigrations(dirWith({ '001_a.sql': 'SELECT 1', '001_b.sql': 'SELECT 2' }))).toThrow(
      /two migrations/,
    );
    expect(() => loadMigrations(dirWith({ '001_a.sql': '-- nothing\n' }))).toThrow(/no statement/);
  });
});

describe('pendingMigrations', () => {
  const files = loadMigrations(
    dirWith({ '001_a.sql': 'SELECT 1', '002_b.sql': 'SELECT 2', '003_c.sql': 'SELECT 3' }),
  );
  const row = (i: number) => ({
    version: files[i]?.version ?? 0,
    name: files[i]?.name ?? '',
    checksum: files[i]?.checksum ?? '',
  });

  it('returns the files not yet applied, in order', () => {
    expect(pendingMigrations(files, []).map((m) => m.version)).toEqual([1, 2, 3]);
    expect(pendingMigrations(files, [row(0), row(1)]).map((m) => m.version)).toEqual([3]);
    expect(pendingMigrations(files, [row(0), row(0), row(1), row(2)])).toEqual([]);
  });

  it('fails when an applied file changed', () => {
    const changed = { ...row(1), checksum: 'f'.repeat(64) };
    expect(() => pendingMigrations(files, [row(0), changed])).toThrow(MigrationError);
    expect(() => pendingMigrations(files, [row(0), changed])).toThrow(
      /002_b was changed after it was applied/,
    );
  });

  it('fails when an applied file is gone', () => {
    expect(() => pendingMigrations(files.slice(0, 1), [row(0), row(1)])).toThrow(
      /002_b was applied but its file is gone/,
    );
  });
});
