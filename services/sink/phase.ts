/**
 * The sink phase: leads.scored and leads.failed (one consumer group) → ClickHouse, batch progress, and
 * webhook events. A batch phase over each consumed batch; the batches of several partitions join one
 * group commit, and each returns (so the runtime commits its offsets) only after its rows were written.
 */
import type { LeadRejection, ScoredLead } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import type { BatchPhase } from '../runtime/phase.ts';
import { dlq, ok, type PhaseResult } from '../runtime/result.ts';
import { rejectionEntry, type SinkEntry, scoredEntry } from './entries.ts';
import { GroupCommit, type GroupCommitOptions } from './group-commit.ts';

export type SinkInput = ScoredLead | LeadRejection;

export const PHASE = 'sink';

export function sinkPhase(
  flush: (entries: SinkEntry[]) => Promise<void>,
  options: GroupCommitOptions,
  now: () => number = Date.now,
): BatchPhase<SinkInput, null> {
  const commit = new GroupCommit(flush, options);
  return {
    name: PHASE,
    input: { topic: TOPICS.scored, record: 'ScoredLead' },
    moreInputs: [{ topic: TOPICS.failed, record: 'LeadRejection' }],
    batch: async (inputs, ctxs) => {
      const version = now();
      const entries: SinkEntry[] = [];
      const results = inputs.map((input, i): PhaseResult<null> => {
        const ctx = ctxs[i];
        const entry =
          ctx?.baseTopic === TOPICS.scored
            ? scoredEntry(input as ScoredLead, Number(ctx.timestamp), version)
            : rejectionEntry(input as LeadRejection, version);
        if (!entry.ok) return dlq(entry.reason);
        entries.push(entry.entry);
        return ok(null);
      });
      await commit.add(entries);
      return results;
    },
  };
}
