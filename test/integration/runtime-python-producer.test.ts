import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { StandardizedLead } from '../../schemas/generated.ts';
import { REPO_ROOT, readStackEnv } from '../../services/lib/config.ts';
import { schemaIdOf } from '../../services/runtime/codec.ts';
import { readTopic } from '../fixtures/runtime/harness.ts';
import { usePassthrough } from '../fixtures/runtime/hooks.ts';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'test', 'fixtures', 'runtime', 'produce_rawlead.py');
const COUNT = 25;

const ctx = usePassthrough('py');

function python(): string {
  const path = process.env.PYTHON ?? readStackEnv().PYTHON;
  if (!path || !existsSync(path)) {
    throw new Error(
      'no Python with confluent-kafka: `npm run stack -- up` creates .stack/venv and writes PYTHON to .stack/env',
    );
  }
  return path;
}

describe('a Python producer (confluent-kafka AvroSerializer) and the runtime share the wire format', () => {
  it('the runtime decodes RawLeads written by Python through the registry', async () => {
    const iso = ctx.iso();
    const { stdout } = await run(
      python(),
      [
        SCRIPT,
        iso.config.KAFKA_BROKERS.join(','),
        iso.config.SCHEMA_REGISTRY_URL,
        iso.topics.raw,
        join(REPO_ROOT, 'schemas', 'RawLead.avsc'),
        String(COUNT),
      ],
      { timeout: 60_000 },
    );
    expect(stdout.trim().split('\n')).toHaveLength(COUNT);

    const raw = await readTopic<unknown>(iso, iso.topics.raw, 'RawLead', COUNT);
    for (const r of raw) {
      const id = schemaIdOf(r.message.value);
      expect(id.ok).toBe(true);
    }

    const out = await readTopic<StandardizedLead>(iso, iso.topics.standardized, 'StandardizedLead', COUNT);
    const byId = new Map(out.map((o) => [o.value?.meta.lead_id, o.value]));
    expect(byId.size).toBe(COUNT);
    const first = byId.get('batch_py:900000');
    expect(first?.meta.account_id).toBe('acct_python');
    expect(first?.lead.email).toBe('python0@example.org');
    expect(first?.lead.company_name).toBe('Python Software Foundation');
    expect(first?.lead.extras).toEqual({ written_by: 'confluent-kafka-python' });
    expect(byId.get('batch_py:900024')?.lead.email).toBe('python24@example.org');
  });
});
