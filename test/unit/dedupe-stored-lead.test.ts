import { describe, expect, it } from 'vitest';
import { generateDedupDataset } from '../../bench/lib/dedup-dataset.ts';
import { loadSchema } from '../../schemas/index.ts';
import { decodeStoredLead, encodeStoredLead } from '../../services/dedupe/open-batches.ts';

const leadType = loadSchema('EnrichedLead').type;
const { leads } = generateDedupDataset({ seed: 3, leads: 500, batchId: 'batch_stored' });

describe('dedupe: a lead as stored in the open batch', () => {
  it('reads back every lead exactly as it was stored', () => {
    for (const lead of leads) expect(decodeStoredLead(encodeStoredLead(lead))).toEqual(lead);
  });

  it('takes at most two thirds of the Avro it holds, over a batch', () => {
    const sum = (sizes: number[]) => sizes.reduce((a, b) => a + b, 0);
    const avro = sum(leads.map((l) => leadType.toBuffer(l).length));
    const stored = sum(leads.map((l) => encodeStoredLead(l).length));
    expect(stored / avro).toBeLessThan(2 / 3);
  });

  it('reads a lead an older instance stored as bare Avro', () => {
    for (const lead of leads.slice(0, 50)) expect(decodeStoredLead(leadType.toBuffer(lead))).toEqual(lead);
  });
});
