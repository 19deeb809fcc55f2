import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTypes } from '../../schemas/generate-types.ts';

describe('schemas/generated.ts', () => {
  it('matches the .avsc files (regenerate: npx tsx schemas/generate-types.ts)', () => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'schemas', 'generated.ts'), 'utf8');
    expect(onDisk).toBe(renderTypes());
  });
});
