import type { ScoredLead } from '../../schemas/generated.ts';
import type { PipelineResult } from './pipeline.ts';

export interface Summary {
  rows: number;
  qualified: number;
  rejected: number;
  invalid: number;
  duplicates: number;
  failed: number;
  /** qualified / rows × 100, one decimal. */
  yield: number;
  seconds: number;
}

export function summarize(result: PipelineResult, elapsedMs: number): Summary {
  const count = (status: string) => result.leads.filter((l) => l.score.status === status).length;
  const qualified = count('QUALIFIED');
  return {
    rows: result.rows,
    qualified,
    rejected: count('REJECTED'),
    invalid: count('INVALID'),
    duplicates: count('DUPLICATE'),
    failed: result.failures.length,
    yield: result.rows ? Math.round((qualified / result.rows) * 1000) / 10 : 0,
    seconds: Math.round(elapsedMs / 100) / 10,
  };
}

/** The table and the source lines printed on stderr at the end of a run. */
export function summaryLines(s: Summary, ctx: { result: PipelineResult; out: string }): string[] {
  const table: Array<[string, string]> = [
    ['rows', String(s.rows)],
    ['qualified', String(s.qualified)],
    ['rejected (below threshold)', String(s.rejected)],
    ['invalid', String(s.invalid)],
    ['duplicates', String(s.duplicates)],
    ['failed (unreadable/unusable)', String(s.failed)],
    ['yield', `${s.yield.toFixed(1)} %`],
    ['time', `${s.seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  const { dns } = ctx.result;
  const servers = dns.servers.join(', ') || 'none';
  return [
    '',
    ...table.map(([k, v]) => `  ${k.padEnd(width)}  ${v.padStart(8)}`),
    '',
    `enrichment: ${enrichmentLine(ctx.result.enrichment)}`,
    `evidence: ${evidenceLine(ctx.result.leads)}`,
    dns.reachable
      ? `dns: resolvers ${servers}`
      : `dns: resolver ${servers} unreachable for Internet names (${dns.reason}): email domains not checked, email_status unknown`,
    `written: ${ctx.out}`,
  ];
}

/** Where enrichment came from and what it cost: a price only for real calls. */
function enrichmentLine({ mode, spend }: PipelineResult['enrichment']): string {
  switch (mode.kind) {
    case 'sandbox':
      return `sandbox providers started at ${mode.url} for this run (--sandbox): invented test data, every value labelled sandbox:<provider>; ${spend.calls} provider calls (sandbox, no cost)`;
    case 'live':
      return `live providers ${mode.providers.join(', ')} (keys from the environment); ${spend.calls} provider calls, $${spend.cost_usd.toFixed(2)}`;
    case 'none':
      return "no provider keys set, no provider asked: the leads' own values and DNS technographics only (set provider keys for live enrichment; --sandbox for invented test data)";
  }
}

/** How much of the scores' input was known, and which inputs were missing most often. */
function evidenceLine(leads: ScoredLead[]): string {
  if (leads.length === 0) return 'no lead scored';
  const coverage = leads.reduce((sum, l) => sum + (l.score.coverage ?? 0), 0) / leads.length;
  const missing = new Map<string, number>();
  for (const l of leads) for (const f of l.score.missing) missing.set(f, (missing.get(f) ?? 0) + 1);
  const most = [...missing].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = most.length ? most.map(([f, n]) => `${f} ${n}`).join(', ') : 'none';
  return `mean coverage ${(coverage * 100).toFixed(1)} % of the scoring weight; leads missing an input: ${named} (an unknown input earns no fit, an unchecked email 0.35: services/score/README.md)`;
}
