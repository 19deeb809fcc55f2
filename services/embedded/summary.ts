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
  const { source, spend } = ctx.result.enrichment;
  const from =
    source.kind === 'sandbox'
      ? `sandbox providers started at ${source.url} for this run (no provider keys configured)`
      : `live providers ${source.providers.join(', ')} (keys from the environment)`;
  const enrichment = `${from}; ${spend.calls} provider calls, $${spend.cost_usd.toFixed(2)}`;
  return [
    '',
    ...table.map(([k, v]) => `  ${k.padEnd(width)}  ${v.padStart(8)}`),
    '',
    `enrichment: ${enrichment}`,
    dns.reachable
      ? `dns: resolvers ${servers}`
      : `dns: resolver ${servers} unreachable for Internet names (${dns.reason}): email domains not checked, email_status unknown`,
    `written: ${ctx.out}`,
  ];
}
