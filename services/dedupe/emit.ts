import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import type { Decision, Verdict } from './batch-index.ts';
import { dedupedLead } from './resolve.ts';

/** DedupedLeads per read from Redis and per acknowledged send: ~0.5 MB, under the broker's 1 MiB. */
export const EMIT_PAGE = 500;

/**
 * Produces a decided batch page by page, in decision order: each page's leads (and its survivors'
 * donors) are read from the open batch, turned into DedupedLeads and sent; the next page is read while
 * the current one is sent. Only a page or two of full leads is ever in memory.
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
  const fetchPage = (page: Verdict[]) => read([...new Set(page.flatMap((v) => [v.member.id, ...v.donors]))]);
  let next = pages[0] ? fetchPage(pages[0]) : undefined;
  for (let p = 0; p < pages.length; p++) {
    const leads = await (next as Promise<Map<string, EnrichedLead>>);
    const following = pages[p + 1];
    next = following ? fetchPage(following) : undefined;
    // A rejected prefetch surfaces when awaited; until then it must not count as unhandled.
    next?.catch(() => {});
    const leadOf = (id: string) => {
      const lead = leads.get(id);
      if (!lead) throw new Error(`lead ${id} is no longer stored`);
      return lead;
    };
    await send((pages[p] as Verdict[]).map((v) => dedupedLead(v, leadOf)));
  }
}
