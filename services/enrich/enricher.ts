/**
 * One lead's enrichment: what the input already says, then the caches (person by email, company by
 * domain or similar name), then the provider waterfall for what is still missing, then DNS
 * technographics — producing the Enrichment record in which every field names its source.
 * Multi-source validation asks every provider at once and scores their agreement (consensus.ts).
 */
import type { Enrichment } from '../../schemas/generated.ts';
import type { CachedRecord, CacheHit, EnrichmentCache, HitLevel } from './cache.ts';
import type { CacheLevel } from './call-log.ts';
import { buildConsensus, type Consensus, LEAD_FIELDS, type SourceAnswer } from './consensus.ts';
import { type LookupKeys, lookupKeys, verdictOf } from './eligibility.ts';
import type { Spent } from './http.ts';
import { companyKey as toCompanyKey } from './normalize.ts';
import { addSpent, type Operation, type PersonQuery, type ProviderAdapter } from './providers/adapter.ts';
import type { DnsTechnographics } from './technographics.ts';
import {
  answerFields,
  COMPANY_FIELDS,
  type Field,
  type FieldValue,
  type FieldValues,
  PERSON_FIELDS,
  type ProviderName,
} from './types.ts';
import {
  emptyOutcome,
  type Known,
  type ProviderFailure,
  runWaterfall,
  type WaterfallOptions,
  type WaterfallOutcome,
} from './waterfall.ts';

/** The lead fields enrichment reads (a subset of StandardizedFields plus phase 3's email verdict). */
export interface LeadInput {
  email: string | null;
  email_status: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  title_normalized: string | null;
  company_name: string | null;
  company_key: string | null;
  domain: string | null;
  linkedin_url: string | null;
  phone_e164: string | null;
  country: string | null;
  industry: string | null;
  employees: string | null;
}

export interface EnrichOutcome {
  enrichment: Enrichment;
  failures: ProviderFailure[];
  spent: Spent;
  /** True when the lead was kept away from paid providers (nothing to match on). */
  unmatchable: boolean;
}

export interface EnricherOptions extends WaterfallOptions {
  /** Confidence given to a value the lead itself carried, and to DNS findings. */
  inputReliability: number;
  dnsReliability: number;
}

/** The multi-source response of API.md. */
export interface MultiSourceResult {
  lead: {
    email: string;
    name: string | null;
    title: string | null;
    company: string | null;
    phone: string | null;
    linkedin: string | null;
  };
  validation: { confidence_score: number; data_quality: number; coverage: number };
  sources: Record<string, { agreement: boolean; confidence: number; fields_provided: string[] }>;
  consensus: Record<string, { agreement_score: number; sources: number }>;
}

/** Provider names as the public API spells them. */
export const API_SOURCE_NAME: Record<ProviderName, string> = {
  apollo: 'apollo_io',
  clearbit: 'clearbit',
  hunter: 'hunter_io',
  snov: 'snov_io',
};

const LEVEL_RANK: Record<HitLevel, number> = { l1: 0, l2: 1, similarity: 2 };
const EMAIL_AND_PERSON: readonly Field[] = ['email', ...PERSON_FIELDS];

export class Enricher {
  /** Companies being enriched in this process right now, so concurrent leads of one company pay once. */
  readonly #companies = new Map<string, Promise<void>>();
  readonly #targetFields: Field[];

  constructor(
    private readonly adapters: ReadonlyMap<ProviderName, ProviderAdapter>,
    private readonly cache: EnrichmentCache,
    private readonly dns: DnsTechnographics | null,
    private readonly opts: EnricherOptions,
  ) {
    this.#targetFields = [...new Set(Object.values(opts.targets).flat())];
  }

  async enrich(lead: LeadInput): Promise<EnrichOutcome> {
    const keys = lookupKeys({ ...lead, linkedin: lead.linkedin_url });
    const companyKey = lead.company_key || (lead.company_name ? toCompanyKey(lead.company_name) : null);
    const known = fromInput(lead);
    const hits: CacheHit[] = [];
    const skip = new Set<Operation>();
    // The caches are consulted only for what the input leaves open: a complete lead costs no lookup.
    const open = (group: Operation) => this.opts.targets[group].some((f) => known.fields[f] === undefined);

    const personHit =
      keys.email && (open('person') || open('email'))
        ? await this.cache.getByEmail('person', keys.email)
        : null;
    if (personHit) {
      hits.push(personHit);
      absorb(known, personHit.record);
      skip.add('person').add('email');
    }
    let release: (() => void) | null = null;
    let companyHit: CacheHit | null = null;
    if ((keys.domain || companyKey) && open('company')) {
      companyHit = await this.cache.getCompany(keys.domain, companyKey);
      if (!companyHit && keys.domain) {
        // Another lead of this company is being enriched right now: wait for it, then read its result.
        const running = this.#companies.get(keys.domain);
        if (running) {
          await running;
          companyHit = await this.cache.getCompany(keys.domain, companyKey);
        } else {
          release = this.#claimCompany(keys.domain);
        }
      }
    }
    if (companyHit) {
      hits.push(companyHit);
      absorb(known, companyHit.record);
      skip.add('company');
    }

    try {
      const stillOpen = (['email', 'person', 'company'] as const).some((g) => !skip.has(g) && open(g));
      const outcome =
        keys.paid && stillOpen
          ? await runWaterfall(
              this.adapters,
              { person: personQuery(lead, keys), domain: keys.domain, skip },
              known,
              this.opts,
            )
          : emptyOutcome(known);
      const result: Known = { fields: { ...outcome.fields }, sources: { ...outcome.sources } };
      if (!companyHit && keys.domain && this.dns) await this.#addTechnographics(keys.domain, result);
      await this.#remember(keys, { person: !personHit, company: !companyHit }, outcome, result, companyKey);
      return {
        enrichment: this.#toEnrichment(result, cacheLevel(hits, outcome.calls)),
        failures: outcome.failures,
        spent: { calls: outcome.calls, cost_usd: outcome.cost_usd },
        unmatchable: !keys.paid,
      };
    } finally {
      release?.();
    }
  }

  /**
   * Stores what the providers taught us. A record with provider data is kept; so is an empty one when
   * every provider asked answered "unknown" (a negative entry that saves asking again), but not when a
   * provider failed, so an outage is retried later instead of being remembered as "nothing".
   */
  async #remember(
    keys: LookupKeys,
    fresh: { person: boolean; company: boolean },
    outcome: WaterfallOutcome,
    result: Known,
    companyKey: string | null,
  ): Promise<void> {
    const failed = (...groups: Operation[]) => outcome.failures.some((f) => groups.includes(f.operation));
    const personAsked = outcome.asked.has('person') || outcome.asked.has('email');
    if (keys.email && fresh.person && personAsked) {
      const rec = record(
        result,
        EMAIL_AND_PERSON,
        addSpent(outcome.spentBy.person, outcome.spentBy.email),
        null,
      );
      if (Object.keys(rec.fields).length > 0 || !failed('person', 'email')) {
        await this.cache.setByEmail('person', keys.email, rec);
      }
    }
    if (keys.domain && fresh.company && (outcome.asked.has('company') || hasAny(result, COMPANY_FIELDS))) {
      const name = result.fields.company;
      const key = companyKey ?? (typeof name === 'string' ? toCompanyKey(name) : null);
      const rec = record(result, COMPANY_FIELDS, outcome.spentBy.company, key);
      if (Object.keys(rec.fields).length > 0 || !failed('company'))
        await this.cache.setCompany(keys.domain, rec);
    }
  }

  /** Marks a domain's company as being enriched by this process; the returned function ends that. */
  #claimCompany(domain: string): () => void {
    let done = () => {};
    this.#companies.set(
      domain,
      new Promise<void>((resolve) => {
        done = resolve;
      }),
    );
    return () => {
      this.#companies.delete(domain);
      done();
    };
  }

  /** Asks every provider about one email and scores their agreement (API: /validation/multi-source). */
  async multiSource(email: string, emailStatus = 'unknown'): Promise<MultiSourceResult> {
    const address = email.trim().toLowerCase();
    const cached = await this.cache.getByEmail('multi', address);
    if (cached) return cached.record.payload as MultiSourceResult;
    const keys = lookupKeys({
      email: address,
      email_status: emailStatus,
      domain: address.split('@')[1] ?? null,
      company_key: null,
      linkedin: null,
    });
    const answers = keys.email
      ? await Promise.all([...this.adapters.values()].map((a) => this.#askAll(a, address)))
      : [];
    const consensus = buildConsensus(
      answers.filter((a) => Object.keys(a.fields).length > 0),
      this.opts.reliability,
    );
    const result = toMultiSourceResponse(address, consensus);
    const spent = answers.reduce(
      (s, a) => ({ calls: s.calls + a.spent.calls, cost_usd: s.cost_usd + a.spent.cost_usd }),
      { calls: 0, cost_usd: 0 },
    );
    // An answer missing a provider because it failed is served, but not remembered.
    if (!answers.some((a) => a.failed)) {
      await this.cache.setByEmail('multi', address, {
        fields: {},
        sources: {},
        payload: result,
        ...spent,
        stored_at: Date.now(),
      });
    }
    return result;
  }

  /** Every operation a provider offers for one email, merged into that provider's single answer. */
  async #askAll(
    adapter: ProviderAdapter,
    email: string,
  ): Promise<SourceAnswer & { spent: Spent; failed: boolean }> {
    const domain = email.split('@')[1] ?? '';
    const lookups = await Promise.all([
      adapter.verifyEmail?.(email),
      adapter.person?.({ email }),
      // Company data of the combined person lookups already covers the domain.
      adapter.person ? undefined : adapter.company?.(domain, email),
    ]);
    const fields: FieldValues = {};
    const spent = { calls: 0, cost_usd: 0 };
    for (const lookup of lookups) {
      if (!lookup) continue;
      spent.calls += lookup.spent.calls;
      spent.cost_usd += lookup.spent.cost_usd;
      if (lookup.kind === 'found') {
        for (const [f, v] of Object.entries(answerFields(lookup.answer))) fields[f as Field] ??= v;
      }
    }
    const failed = lookups.some((l) => l?.kind === 'failed' || l?.kind === 'pending');
    return { provider: adapter.name, fields, spent, failed };
  }

  async #addTechnographics(domain: string, into: Known): Promise<void> {
    // DNS is a free extra: a slow or failing resolver leaves the lead as it is.
    const found = await this.dns?.lookup(domain).catch(() => null);
    if (!found?.technologies.length) return;
    const current = Array.isArray(into.fields.technologies) ? into.fields.technologies : [];
    const merged = [...new Set([...current, ...found.technologies])];
    if (merged.length === current.length) return;
    into.fields.technologies = merged;
    into.sources.technologies ??= 'dns';
  }

  #toEnrichment(r: Known, level: CacheLevel): Enrichment {
    const s = (f: Field) => (typeof r.fields[f] === 'string' ? (r.fields[f] as string) : null);
    const list = (f: Field) => (Array.isArray(r.fields[f]) ? (r.fields[f] as string[]) : []);
    const employees = r.fields.employee_count;
    const fieldSources: Record<string, string> = {};
    for (const [field, name] of Object.entries(ENRICHMENT_NAME) as [Field, string][]) {
      const source = r.sources[field];
      if (source) fieldSources[name] = source;
    }
    return {
      company_name: s('company'),
      industry: s('industry'),
      employee_count: typeof employees === 'number' ? employees : null,
      country: s('country'),
      signals: list('signals'),
      technologies: list('technologies'),
      person_title: s('title'),
      person_linkedin: s('linkedin'),
      field_sources: fieldSources,
      confidence: this.#confidence(r),
      multi_source: false,
      cache_level: level,
    };
  }

  /**
   * Mean over the waterfall's target fields of the reliability of each field's source (0 when the field
   * stayed empty): how much of what we wanted we have, weighted by how far we trust where it came from.
   */
  #confidence(r: Known): number {
    const targets = this.#targetFields;
    if (targets.length === 0) return 0;
    let sum = 0;
    for (const field of targets) {
      const source = r.sources[field];
      if (!source) continue;
      if (source === 'input') sum += this.opts.inputReliability;
      else if (source === 'dns') sum += this.opts.dnsReliability;
      else sum += this.opts.reliability[source as ProviderName] ?? 0;
    }
    return sum / targets.length;
  }
}

/** Enrichment record field names for the internal field vocabulary. */
const ENRICHMENT_NAME: Partial<Record<Field, string>> = {
  company: 'company_name',
  industry: 'industry',
  employee_count: 'employee_count',
  country: 'country',
  signals: 'signals',
  technologies: 'technologies',
  title: 'person_title',
  linkedin: 'person_linkedin',
  name: 'person_name',
  email: 'email_status',
};

function personQuery(lead: LeadInput, keys: LookupKeys): PersonQuery | null {
  if (!keys.email && !lead.linkedin_url) return null;
  return {
    email: keys.email,
    linkedin: lead.linkedin_url,
    first_name: lead.first_name,
    last_name: lead.last_name,
    domain: keys.domain,
    company: lead.company_name,
  };
}

/** The lead's own values, each recorded with source "input". */
function fromInput(lead: LeadInput): Known {
  const known: Known = { fields: {}, sources: {} };
  const put = (field: Field, value: FieldValue | null) => {
    if (value === null || value === '') return;
    known.fields[field] = value;
    known.sources[field] = 'input';
  };
  put('email', verdictOf(lead.email_status));
  put('name', lead.full_name ?? ([lead.first_name, lead.last_name].filter(Boolean).join(' ') || null));
  put('title', lead.title_normalized);
  put('linkedin', lead.linkedin_url);
  put('phone', lead.phone_e164);
  put('company', lead.company_name);
  put('domain', lead.domain);
  put('industry', lead.industry);
  put('country', lead.country);
  const employees = lead.employees ? Number.parseInt(lead.employees.replace(/[^\d]/g, ''), 10) : Number.NaN;
  put('employee_count', Number.isFinite(employees) ? employees : null);
  return known;
}

/** Cached fields fill what the input left open; the input always wins. */
function absorb(known: Known, rec: CachedRecord): void {
  for (const [field, value] of Object.entries(rec.fields) as [Field, FieldValue][]) {
    if (known.fields[field] !== undefined) continue;
    known.fields[field] = value;
    const source = rec.sources[field];
    if (source) known.sources[field] = source;
  }
}

/** The provider-sourced part of a result, as a cache record. Input values are the lead's, not cached. */
function record(r: Known, fields: readonly Field[], spent: Spent, companyKey: string | null): CachedRecord {
  const out: CachedRecord = {
    fields: {},
    sources: {},
    calls: spent.calls,
    cost_usd: spent.cost_usd,
    company_key: companyKey,
    stored_at: Date.now(),
  };
  for (const field of fields) {
    const source = r.sources[field];
    const value = r.fields[field];
    if (!source || source === 'input' || value === undefined) continue;
    out.fields[field] = value;
    out.sources[field] = source;
  }
  return out;
}

const hasAny = (r: Known, fields: readonly Field[]) =>
  fields.some((f) => r.sources[f] !== undefined && r.sources[f] !== 'input');

function cacheLevel(hits: CacheHit[], calls: number): CacheLevel {
  if (calls > 0) return 'provider';
  const best = hits.sort((a, b) => LEVEL_RANK[a.level] - LEVEL_RANK[b.level])[0];
  return best ? best.level : 'none';
}

export function toMultiSourceResponse(email: string, c: Consensus): MultiSourceResult {
  const text = (f: Field) => {
    const v = c.fields[f]?.value;
    return v === undefined ? null : String(v);
  };
  const sources: MultiSourceResult['sources'] = {};
  for (const [provider, summary] of Object.entries(c.per_source)) {
    sources[API_SOURCE_NAME[provider as ProviderName]] = summary;
  }
  const consensus: MultiSourceResult['consensus'] = {};
  for (const field of LEAD_FIELDS) {
    const f = c.fields[field];
    consensus[field] = { agreement_score: f?.agreement_score ?? 0, sources: f?.sources ?? 0 };
  }
  return {
    lead: {
      email,
      name: text('name'),
      title: text('title'),
      company: text('company'),
      phone: text('phone'),
      linkedin: text('linkedin'),
    },
    validation: { confidence_score: c.confidence_score, data_quality: c.data_quality, coverage: c.coverage },
    sources,
    consensus,
  };
}
