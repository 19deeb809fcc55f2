import { deflateRawSync } from 'node:zlib';
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

  it('stores the bare Avro, which any instance reads without the stored-lead codec', () => {
    for (const lead of leads) {
      const stored = encodeStoredLead(lead);
      expect(stored[0]).not.toBe(1);
      expect(leadType.fromBuffer(stored)).toEqual(lead);
    }
  });

  it('reads a lead an older instance stored deflated (0x01, then the deflated Avro)', () => {
    for (const lead of leads.slice(0, 50)) {
      const packed = deflateRawSync(leadType.toBuffer(lead), { level: 1 });
      expect(decodeStoredLead(Buffer.concat([Buffer.from([1]), packed]))).toEqual(lead);
    }
  });
});
