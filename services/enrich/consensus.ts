/**
 * Multi-source consensus. Several providers answer for one lead; per field we decide the value and how
 * far the sources agree on it.
 *
 * For a field f, let S be the providers that returned a value for f (silent providers are not counted
 * for or against), w(p) the configured reliability of provider p, and norm() the field's comparable form
 * (normalize.ts). Values are grouped by norm(); the consensus value is the group with the greatest total
 * weight (ties: the group whose first member comes first in the answer order).
 *
 *   agreement_score(f) = Σ_{p∈S agreeing} w(p) / Σ_{p∈S} w(p)
 *   sources(f)         = number of agreeing providers
 *   confidence(f)      = agreement_score(f) × (1 − Π_{p agreeing} (1 − w(p)))
 *
 * The second factor is the chance that at least one agreeing source is right if they err independently,
 * so a value two good sources agree on outranks one that a single source reports.
 *
 * Overall, over the scored fields that at least one source filled:
 *   confidence_score = mean confidence(f)
 *   data_quality     = mean agreement_score(f)
 *   coverage         = filled lead fields / lead fields (email, name, title, company, phone, linkedin)
 *
 * Per source: fields_provided (scored fields it returned), agreement = it agrees with the consensus value
 * on every field it provided, confidence = w(p) × agreeing fields / provided fields.
 * List fields (technologies, signals) are not voted on: they are merged as a union.
 */
import { normalizeField } from './normalize.ts';
import {
  FIELDS,
  type Field,
  type FieldValue,
  type FieldValues,
  LIST_FIELDS,
  type ProviderName,
} from './types.ts';

/** Fields voted on. */
export const SCORED_FIELDS: readonly Field[] = FIELDS.filter((f) => !LIST_FIELDS.includes(f));
/** The lead fields of the multi-source response; coverage is measured on them. */
export const LEAD_FIELDS: readonly Field[] = ['email', 'name', 'title', 'company', 'phone', 'linkedin'];

export interface SourceAnswer {
  provider: ProviderName;
  fields: FieldValues;
}

export interface FieldConsensus {
  value: FieldValue;
  /** The first agreeing provider in answer order: the field's recorded source. */
  source: ProviderName;
  agreement_score: number;
  sources: number;
  agreeing: ProviderName[];
  dissenting: ProviderName[];
  confidence: number;
}

export interface SourceSummary {
  agreement: boolean;
  confidence: number;
  fields_provided: Field[];
}

export interface Consensus {
  fields: Partial<Record<Field, FieldConsensus>>;
  /** Union of list fields, with the first provider that contributed. */
  lists: Partial<Record<'technologies' | 'signals', { value: string[]; source: ProviderName }>>;
  per_source: Partial<Record<ProviderName, SourceSummary>>;
  confidence_score: number;
  data_quality: number;
  coverage: number;
}

export function buildConsensus(
  answers: readonly SourceAnswer[],
  weight: Record<ProviderName, number>,
): Consensus {
  const fields: Consensus['fields'] = {};
  for (const field of SCORED_FIELDS) {
    const voted = voteField(field, answers, weight);
    if (voted) fields[field] = voted;
  }
  const scored = Object.values(fields);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    fields,
    lists: {
      technologies: unionList('technologies', answers),
      signals: unionList('signals', answers),
    },
    per_source: summarizeSources(answers, fields, weight),
    confidence_score: mean(scored.map((f) => f.confidence)),
    data_quality: mean(scored.map((f) => f.agreement_score)),
    coverage: LEAD_FIELDS.filter((f) => fields[f]).length / LEAD_FIELDS.length,
  };
}

function voteField(
  field: Field,
  answers: readonly SourceAnswer[],
  weight: Record<ProviderName, number>,
): FieldConsensus | null {
  const groups = new Map<string, { value: FieldValue; members: ProviderName[]; weight: number }>();
  let total = 0;
  for (const { provider, fields } of answers) {
    const value = fields[field];
    if (value === undefined) continue;
    const key = normalizeField(field, value);
    if (key === '') continue;
    const group = groups.get(key) ?? { value, members: [], weight: 0 };
    group.members.push(provider);
    group.weight += weight[provider];
    groups.set(key, group);
    total += weight[provider];
  }
  let best: { value: FieldValue; members: ProviderName[]; weight: number } | undefined;
  // Map iteration follows insertion order, i.e. answer order: strict ">" keeps the earliest on ties.
  for (const group of groups.values()) if (!best || group.weight > best.weight) best = group;
  if (!best || best.members[0] === undefined) return null;
  const agreeing = best.members;
  const agreement = total > 0 ? best.weight / total : 0;
  const allWrong = agreeing.reduce((acc, p) => acc * (1 - weight[p]), 1);
  return {
    value: best.value,
    source: best.members[0],
    agreement_score: agreement,
    sources: agreeing.length,
    agreeing,
    dissenting: [...groups.values()].filter((g) => g !== best).flatMap((g) => g.members),
    confidence: agreement * (1 - allWrong),
  };
}

function unionList(field: 'technologies' | 'signals', answers: readonly SourceAnswer[]) {
  const seen = new Map<string, string>();
  let source: ProviderName | undefined;
  for (const { provider, fields } of answers) {
    const value = fields[field];
    if (!Array.isArray(value)) continue;
    for (const item of value) {
      const key = normalizeField(field, [item]);
      if (!seen.has(key)) {
        seen.set(key, item);
        source ??= provider;
      }
    }
  }
  return source ? { value: [...seen.values()], source } : undefined;
}

function summarizeSources(
  answers: readonly SourceAnswer[],
  fields: Consensus['fields'],
  weight: Record<ProviderName, number>,
): Consensus['per_source'] {
  const out: Consensus['per_source'] = {};
  for (const { provider, fields: provided } of answers) {
    const mine = SCORED_FIELDS.filter((f) => provided[f] !== undefined);
    const agreeing = mine.filter((f) => fields[f]?.agreeing.includes(provider)).length;
    out[provider] = {
      agreement: mine.length > 0 && agreeing === mine.length,
      confidence: mine.length ? (weight[provider] * agreeing) / mine.length : 0,
      fields_provided: mine,
    };
  }
  return out;
}
