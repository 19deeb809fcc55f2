/**
 * Every topic-value schema evolves BACKWARD compatibly: the real registry accepts the current schema
 * after each previously registered version (schemas/history), and refuses a breaking change with 409.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSchema, RECORD_NAMES, type RecordName } from '../../schemas/index.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRegistry, RegistryError } from '../../services/lib/registry.ts';

const HISTORY = join(import.meta.dirname, '..', '..', 'schemas', 'history');
const registry = createRegistry(loadConfig().SCHEMA_REGISTRY_URL);
const run = `t_compat_${randomBytes(4).toString('hex')}`;
const used: string[] = [];

afterAll(async () => {
  for (const subject of used) await registry.deleteSubject(subject).catch(() => undefined);
});

type Schema = {
  type: string;
  name: string;
  fields: Array<{ name: string; type: unknown; default?: unknown }>;
};

function history(name: RecordName): string[] {
  return readdirSync(HISTORY)
    .map((f) => new RegExp(`^${name}\\.v(\\d+)\\.avsc$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => readFileSync(join(HISTORY, m[0]), 'utf8'));
}

async function freshSubject(name: string, label: string): Promise<string> {
  const subject = `${run}.${name}.${label}-value`;
  used.push(subject);
  await registry.setCompatibility(subject, 'BACKWARD');
  return subject;
}

describe.each(RECORD_NAMES)('%s', (name) => {
  const current = loadSchema(name).avsc;
  const versions = history(name);

  it('has at least one previous version that differs from the current schema and can read old data', () => {
    expect(versions.length).toBeGreaterThan(0);
    for (const v of versions) {
      const old = avro.Type.forSchema(JSON.parse(v));
      expect(JSON.stringify(old.schema())).not.toBe(JSON.stringify(loadSchema(name).type.schema()));
      // What avsc's resolver allows is what BACKWARD means: the current reader decodes old writers' data.
      const resolver = loadSchema(name).type.createResolver(old);
      expect(resolver).toBeDefined();
    }
  });

  it('is accepted under BACKWARD after every previous version', async () => {
    const subject = await freshSubject(name, 'evolve');
    const ids: number[] = [];
    for (const v of versions) ids.push((await registry.register(subject, v)).id);
    expect(await registry.isCompatible(subject, current)).toBe(true);
    const { id } = await registry.register(subject, current);
    expect(ids).not.toContain(id);
    expect(await registry.lookup(subject, current)).toEqual({ id, version: versions.length + 1 });
  });

  it('refuses a new field without a default with HTTP 409', async () => {
    const subject = await freshSubject(name, 'nodefault');
    await registry.register(subject, current);
    const broken = JSON.parse(current) as Schema;
    broken.fields.push({ name: 'required_without_default', type: 'string' });
    const candidate = JSON.stringify(broken);
    expect(await registry.isCompatible(subject, candidate)).toBe(false);
    const err = await registry.register(subject, candidate).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(409);
  });

  it('refuses a changed field type with HTTP 409', async () => {
    const subject = await freshSubject(name, 'retype');
    await registry.register(subject, current);
    const broken = JSON.parse(current) as Schema;
    const field = broken.fields[0];
    if (!field) throw new Error(`${name} has no fields`);
    // Every record's first field is a string or a record; a boolean can be promoted from neither.
    field.type = 'boolean';
    const err = await registry.register(subject, JSON.stringify(broken)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(409);
  });
});
