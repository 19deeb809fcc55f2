/**
 * Waterfall: per group of fields (email verdict, person, company), providers are asked in the configured
 * order until every target field of the group is filled by a source at least as reliable as
 * `minConfidence`. A provider that fails (circuit open, timeouts, 5xx after retries) is recorded and
 * skipped: the lead completes with what the others knew. One answer may fill several groups (Apollo's
 * person match carries the organisation), so later groups often need no call at all.
 */
import type { FailureReason, Spent } from './http.ts';
import type { Lookup, Operation, PersonQuery, ProviderAdapter } from './providers/adapter.ts';
import {
  answerFields,
  type Field,
  type FieldValues,
  type ProviderAnswer,
  type ProviderName,
} from './types.ts';

export interface WaterfallOptions {
  order: Record<Operation, readonly ProviderName[]>;
  /** The fields each group chases; others are kept when they come along but never cause a call. */
  targets: Record<Operation, readonly Field[]>;
  reliability: Record<ProviderName, number>;
  minConfidence: number;
}

/** Fields already known (from the input or the cache) and where each came from. */
export interface Known {
  fields: FieldValues;
  sources: Partial<Record<Field, string>>;
}

export interface WaterfallQuery {
  /** Null when the lead offers no person key (usable email or LinkedIn URL). */
  person: PersonQuery | null;
  domain: string | null;
  /** Groups already served (e.g. the company came from the cache). */
  skip?: ReadonlySet<Operation>;
}

export interface ProviderFailure {
  provider: ProviderName;
  operation: Operation;
  reason: FailureReason | 'pending';
  detail: string;
}

export interface WaterfallOutcome extends Known, Spent {
  answers: ProviderAnswer[];
  failures: ProviderFailure[];
  /** Groups for which at least one provider was asked. */
  asked: Set<Operation>;
  /** Calls and cost per group, so each cached record knows what it saves when reused. */
  spentBy: Record<Operation, Spent>;
}

/** The groups in the order the waterfall fills them. */
export const GROUPS: readonly Operation[] = ['email', 'person', 'company'];

export async function runWaterfall(
  adapters: ReadonlyMap<ProviderName, ProviderAdapter>,
  query: WaterfallQuery,
  known: Known,
  opts: WaterfallOptions,
): Promise<WaterfallOutcome> {
  const out = emptyOutcome(known);
  const missing = (group: Operation) => opts.targets[group].filter((f) => out.fields[f] === undefined);
  for (const group of GROUPS) {
    if (query.skip?.has(group)) continue;
    for (const provider of opts.order[group]) {
      if (missing(group).length === 0) break;
      const adapter = adapters.get(provider);
      if (!adapter?.operations.includes(group)) continue;
      const lookup = await ask(adapter, group, query);
      if (!lookup) continue;
      out.asked.add(group);
      out.calls += lookup.spent.calls;
      out.cost_usd += lookup.spent.cost_usd;
      out.spentBy[group].calls += lookup.spent.calls;
      out.spentBy[group].cost_usd += lookup.spent.cost_usd;
      if (lookup.kind === 'failed' || lookup.kind === 'pending') {
        const detail = lookup.kind === 'failed' ? lookup.detail : 'lookup queued by the provider';
        out.failures.push({
          provider,
          operation: group,
          reason: lookup.kind === 'failed' ? lookup.reason : 'pending',
          detail,
        });
        continue;
      }
      if (lookup.kind === 'found') {
        out.answers.push(lookup.answer);
        if (opts.reliability[provider] >= opts.minConfidence)
          fill(out, provider, answerFields(lookup.answer));
      }
    }
  }
  return out;
}

/** An outcome before (or without) any provider call: what is known, nothing spent. */
export function emptyOutcome(known: Known): WaterfallOutcome {
  return {
    fields: { ...known.fields },
    sources: { ...known.sources },
    answers: [],
    failures: [],
    asked: new Set(),
    calls: 0,
    cost_usd: 0,
    spentBy: {
      email: { calls: 0, cost_usd: 0 },
      person: { calls: 0, cost_usd: 0 },
      company: { calls: 0, cost_usd: 0 },
    },
  };
}

/** Runs one operation, or returns null when the query lacks what the operation needs. */
function ask(adapter: ProviderAdapter, group: Operation, query: WaterfallQuery): Promise<Lookup> | null {
  switch (group) {
    case 'email':
      return query.person?.email && adapter.verifyEmail ? adapter.verifyEmail(query.person.email) : null;
    case 'person':
      return query.person && adapter.person ? adapter.person(query.person) : null;
    case 'company':
      return query.domain && adapter.company
        ? adapter.company(query.domain, query.person?.email ?? undefined)
        : null;
  }
}

/** First source wins: a field once filled keeps its value and its recorded source. */
function fill(out: Known, provider: ProviderName, fields: FieldValues): void {
  for (const [field, value] of Object.entries(fields) as [Field, FieldValues[Field]][]) {
    if (value === undefined || out.fields[field] !== undefined) continue;
    out.fields[field] = value;
    out.sources[field] = provider;
  }
}
