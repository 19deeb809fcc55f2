import { describe, expect, it } from 'vitest';
import { generateDedupDataset } from '../../bench/lib/dedup-dataset.ts';
import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import { BatchIndex } from '../../services/dedupe/batch-index.ts';
import { DEFAULT_SETTINGS } from '../../services/dedupe/config.ts';
import { emitDecision } from '../../services/dedupe/emit.ts';
import { resolveBatch } from '../../services/dedupe/resolve.ts';

const { leads } = generateDedupDataset({ seed: 6, leads: 300, batchId: 'batch_emit' });
const stored = new Map(leads.map((l) => [l.meta.lead_id, l]));
const decision = BatchIndex.of(leads, DEFAULT_SETTINGS).decide([]);

/** Reads from the "open batch", recording how many leads each read asked for. */
function reader(missing?: string) {
  const sizes: number[] = [];
  const read = async (ids: string[]) => {
    sizes.push(ids.length);
    const out = new Map<string, EnrichedLead>();
    for (const id of ids) if (id !== missing) out.set(id, stored.get(id) as EnrichedLead);
    return out;
  };
  return { read, sizes };
}

describe('emitting a decided batch page by page', () => {
  it('produces exactly what resolveBatch produces, reading only a page and its donors at a time', async () => {
    const { read, sizes } = reader();
    const sent: DedupedLead[] = [];
    await emitDecision(decision, read, async (page) => void sent.push(...page), 20);
    const byId = (a: DedupedLead, b: DedupedLead) => (a.meta.lead_id < b.meta.lead_id ? -1 : 1);
    expect(sent.sort(byId)).toEqual(resolveBatch(leads, [], DEFAULT_SETTINGS).leads.sort(byId));
    expect(sent.some((l) => Object.keys(l.dedup.filled_from).length > 0)).toBe(true);
    expect(sizes).toHaveLength(15);
    expect(Math.max(...sizes)).toBeLessThan(60);
  });

  it('fails when a lead is no longer stored, and stops taking pages', async () => {
    const { read } = reader(decision.verdicts[0]?.member.id);
    let sent = 0;
    await expect(
      emitDecision(
        decision,
        read,
        async (page) => {
          sent += page.length;
        },
        20,
      ),
    ).rejects.toThrow(/no longer stored/);
    expect(sent).toBeLessThan(leads.length);
  });
});
