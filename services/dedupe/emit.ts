import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import type { Decision, Verdict } from './batch-index.ts';
import { dedupedLead } from './resolve.ts';

/** DedupedLeads per read from Redis and per acknowledged send: ~0.5 MB, under the broker's 1 MiB. */
export const EMIT_PAGE = 500;

/** Pages being sent at once: the broker's acknowledgement of one overlaps reading and encoding the next. */
const IN_FLIGHT = 4;

/**
 * Produces a decided batch page by page, in decision order: each page's leads (and its survivors'
 * donors) are read from the open batch, turned into DedupedLeads and sent, with a few pages in flight.
 * Only those pages of full leads are ever in memory. Resolves once every page is acknowledged.
 */
export async function emitDecision(
  decision: Decision,
  read: (leadIds: string[]) => Promise<Map<string, EnrichedLead>>,
  send: (leads: DedupedLead[]) => Promise<void>,
  pageSize = EMIT_PAGE,
): Promise<void> {
  const pages: Verdict[][] = [];
  for (let i = 0; i < decision.verdicts.length; i += pageSize)
    pages.push(decision.verdicts.slice(i, i + pageSize));
  let next = 0;
  let failed = false;
  const emitPage = async (page: Verdict[]) => {
    const leads = await read([...new Set(page.flatMap((v) => [v.member.id, ...v.donors]))]);
    const leadOf = (id: string) => {
      const lead = leads.get(id);
      if (!lead) throw new Error(`lead ${id} is no longer stored`);
      return lead;
    };
    await send(page.map((v) => dedupedLead(v, leadOf)));
  };
  const worker = async () => {
    try {
      while (next < pages.length && !failed) await emitPage(pages[next++] as Verdict[]);
    } catch (err) {
      // The other workers stop taking pages: the whole batch is emitted again on the next attempt.
      failed = true;
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pages.length) }, worker));
}
