/**
 * Writes schemas/generated.ts: one TypeScript interface per Avro record, derived from the .avsc files.
 * `npm run schemas:types` regenerates it; a unit test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';
import { loadSchema, RECORD_NAMES } from './index.ts';

type Schema = avro.Schema & Record<string, unknown>;

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

export function renderTypes(): string {
  const interfaces = new Map<string, string>();

  function tsType(schema: Schema | string): string {
    if (typeof schema === 'string') {
      switch (schema) {
        case 'null':
          return 'null';
        case 'string':
          return 'string';
        case 'boolean':
          return 'boolean';
        case 'int':
        case 'long':
        case 'float':
        case 'double':
          return 'number';
        case 'bytes':
          return 'Buffer';
        default:
          return shortName(schema);
      }
    }
    if (Array.isArray(schema)) return (schema as Schema[]).map(tsType).join(' | ');
    switch (schema.type) {
      case 'record':
        renderRecord(schema);
        return shortName(String(schema.name));
      case 'array':
        return `Array<${tsType(schema.items as Schema)}>`;
      case 'map':
        return `Record<string, ${tsType(schema.values as Schema)}>`;
      case 'enum':
        return (schema.symbols as string[]).map((s) => JSON.stringify(s)).join(' | ');
      default:
        return tsType(schema.type as Schema);
    }
  }

  function renderRecord(schema: Schema): void {
    const name = shortName(String(schema.name));
    if (interfaces.has(name)) return;
    interfaces.set(name, '');
    const fields = (schema.fields as Array<{ name: string; type: Schema; doc?: string }>).map((f) => {
      const doc = f.doc ? `  /** ${f.doc} */\n` : '';
      return `${doc}  ${f.name}: ${tsType(f.type)};`;
    });
    const doc = schema.doc ? `/** ${schema.doc} */\n` : '';
    interfaces.set(name, `${doc}export interface ${name} {\n${fields.join('\n')}\n}\n`);
  }

  for (const name of RECORD_NAMES) tsType(JSON.parse(loadSchema(name).avsc) as Schema);
  const header = '// Generated from schemas/*.avsc by schemas/generate-types.ts. Do not edit.\n\n';
  return header + [...interfaces.values()].join('\n');
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(join(import.meta.dirname, 'generated.ts'), renderTypes());
}
