import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { FastStringType } from './string-type.ts';

const here = import.meta.dirname;

/** Topic-value schemas, one file each in this folder. Shared named types live in ./types. */
export const RECORD_NAMES = [
  'RawLead',
  'StandardizedLead',
  'VerifiedLead',
  'EnrichedLead',
  'DedupedLead',
  'ScoredLead',
  'LeadRejection',
  'BatchRequest',
  'UsageEvent',
  'WebhookEvent',
] as const;
export type RecordName = (typeof RECORD_NAMES)[number];

function readJson(path: string): avro.Schema {
  return JSON.parse(readFileSync(path, 'utf8')) as avro.Schema;
}

/**
 * Parses the shared types first, so topic schemas can name them. Every `"string"` in a schema resolves
 * through the registry, so it starts with the faster string writer (string-type.ts).
 */
function buildRegistry(): Record<string, avro.Type> {
  const registry: Record<string, avro.Type> = { string: new FastStringType() };
  const typeDir = join(here, 'types');
  for (const file of readdirSync(typeDir).sort()) {
    if (file.endsWith('.avsc')) avro.Type.forSchema(readJson(join(typeDir, file)), { registry });
  }
  return registry;
}

export interface LoadedSchema {
  name: RecordName;
  type: avro.Type;
  /** Self-contained schema (named types inlined), as registered in the schema registry. */
  avsc: string;
}

const cache = new Map<RecordName, LoadedSchema>();

export function loadSchema(name: RecordName): LoadedSchema {
  const hit = cache.get(name);
  if (hit) return hit;
  const type = avro.Type.forSchema(readJson(join(here, `${name}.avsc`)), { registry: buildRegistry() });
  const loaded = { name, type, avsc: JSON.stringify(type.schema({ exportAttrs: true })) };
  cache.set(name, loaded);
  return loaded;
}
