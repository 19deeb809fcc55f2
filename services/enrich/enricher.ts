/**
 * One lead's enrichment: what the input already says, then records of the email verdict, the person
 * (by email) and the company (by registrable domain, or a similar name without one), each from the
 * caches or else the provider waterfall, then DNS technographics — producing the Enrichment record in
 * which every field names its source.
 * Multi-source validation asks every provider at once and scores their agreement (consensus.ts).
 */
import type { Enrichment } from '../../schemas/generated.ts';
import { providerLabel } from '../lib/provenance.ts';
import {
  type CachedRecord,
  type CacheHit,
  type EnrichmentCache,
  type HitLevel,
  registrableDomain,
} from './cache.ts';
import type { CacheLevel } from './call-log.ts';
import { buildConsensus, type Consensus, LEAD_FIELDS, type SourceAnswer } from './consensus.ts';
import { type LookupKeys, lookupKeys, verdictOf } from './eligibility.ts';
import type { Spent } from './http.ts';
import { companyKey as toCompanyKey } from './normalize.ts';
import type { Operation, PersonQuery, ProviderAdapter } from './providers/adapter.ts';
import type { DnsTechnographics } from './technographics.ts';
import { answerFields, type Field, type FieldValue, type FieldValues, type ProviderName } from './types.ts';
import {
  GROUPS,
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
  /**
   * When the lead's batch was received. A lead without a company domain takes a similar company only
   * from what was cached before then: what its own batch caches meanwhile depends on arrival order.
   */
  received_at?: number;
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
  /** The adapters talk to the sandbox: every provider value is labelled `sandbox:<provider>`. */
  sandbox: boolean;
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

const LEVEL_RANK: Record<HitLevel, number> = { l1: 0, l2: 1, similarity: 2 };

/** How one record reached a lead: from the cache, computed by this lead, or shared by a concurrent one. */
interface Served {
  record: CachedRecord;
  hit: CacheHit | null;
  /** Set when this lead asked the providers for the record. */
  outcome: WaterfallOutcome | null;
}

const NOTHING: Served = {
  record: { fields: {}, sources: {}, calls: 0, cost_usd: 0, stored_at: 0 },
  hit: null,
  outcome: null,
};

/**
 * A lead's enrichment is a function of the lead and of what the providers answer, never of which
 * leads came before it. So every provider-backed part is a record computed from its key alone —
 * the email verdict and the person by email, the company by registrable domain — the same whether
 * it is computed now, read from L1/L2, or shared with a concurrent lead, and merged in a fixed order:
 * the lead's own values, then the verdict, the person (with the company data person answers carry),
 * the company, and DNS technographics. A record is asked for only while the lead leaves one of its
 * target fields open. Only a lead without a company domain depends on history: its company can come
 * only from a company with a similar name cached before its batch was received (cache.ts).
 */
export class Enricher {
  /** Records being computed in this process right now, so concurrent leads of one key pay once. */
  readonly #running = new Map<string, Promise<CachedRecord>>();
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
    const result = fromInput(lead);
    const served: Served[] = [];
    // A complete lead costs no lookup: each record is consulted only for what is still open.
    const open = (group: Operation) => this.opts.targets[group].some((f) => result.fields[f] === undefined);
    const use = (s: Served) => {
      served.push(s);
      absorb(result, s.record);
    };

    if (keys.email && open('email')) {
      use(await this.#byEmail('verdict', keys.email, ['email']));
    }
    if (open('person')) {
      if (keys.email) use(await this.#byEmail('person', keys.email, ['person']));
      else if (lead.linkedin_url) use(await this.#personByLinkedin(lead, keys));
    }
    if (open('company')) {
      if (keys.domain) use(await this.#company(keys.domain));
      else if (companyKey) {
        const hit = await this.cache.getCompany(null, companyKey, lead.received_at);
        if (hit) use({ record: hit.record, hit, outcome: null });
      }
    }
    if (keys.domain && this.dns) await this.#addTechnographics(keys.domain, result);

    const outcomes = served.flatMap((s) => (s.outcome ? [s.outcome] : []));
    const calls = outcomes.reduce((n, o) => n + o.calls, 0);
    const hits = served.flatMap((s) => (s.hit ? [s.hit] : []));
    return {
      enrichment: this.#toEnrichment(result, cacheLevel(hits, calls)),
      failures: outcomes.flatMap((o) => o.failures),
      spent: { calls, cost_usd: outcomes.reduce((n, o) => n + o.cost_usd, 0) },
      unmatchable: !keys.paid,
    };
  }

  /** The email verdict or the person behind an address: asked with the address alone, its key. */
  #byEmail(kind: 'verdict' | 'person', email: string, groups: Operation[]): Promise<Served> {
    return this.#served(
      `${kind}:${email}`,
      () => this.cache.getByEmail(kind, email),
      () => this.#ask(groups, { email }, null, null),
      (rec) => this.cache.setByEmail(kind, email, rec),
    );
  }

  /** A company by its registrable domain, asked without any person in it. */
  #company(domain: string): Promise<Served> {
    const root = registrableDomain(domain);
    return this.#served(
      `company:${root}`,
      () => this.cache.getCompany(root, null),
      () => this.#ask(['company'], null, root, companyKeyOf),
      (rec) => this.cache.setCompany(root, rec),
    );
  }

  /** Without an email there is no key to cache by: the lead's own LinkedIn query, every time. */
  async #personByLinkedin(lead: LeadInput, keys: LookupKeys): Promise<Served> {
    const query = personQuery(lead, keys);
    if (!query) return NOTHING;
    const { outcome, record } = await this.#ask(['person'], query, null, null);
    return { record, hit: null, outcome };
  }

  /**
   * The cached record, else the one a concurrent lead of this process is computing, else computed
   * here and stored. A record with provider data is stored; so is an empty one when every provider
   * asked answered "unknown" (a negative entry that saves asking again), but not when a provider
   * failed, so an outage is retried later instead of being remembered as "nothing".
   */
  async #served(
    key: string,
    read: () => Promise<CacheHit | null>,
    compute: () => Promise<{ outcome: WaterfallOutcome; record: CachedRecord }>,
    store: (rec: CachedRecord) => Promise<void>,
  ): Promise<Served> {
    const hit = await read();
    if (hit) return { record: hit.record, hit, outcome: null };
    const running = this.#running.get(key);
    if (running) {
      const record = await running;
      const stored = await read();
      return stored ? { record: stored.record, hit: stored, outcome: null } : { ...NOTHING, record };
    }
    const work = compute().then(async (done) => {
      const { outcome, record } = done;
      const remember = Object.keys(record.fields).length > 0 || outcome.failures.length === 0;
      if (outcome.asked.size > 0 && remember) await store(record);
      return done;
    });
    const shared = work.then((d) => d.record);
    // A failure reaches this lead through `work`; waiters that may not exist must not make it unhandled.
    shared.catch(() => {});
    this.#running.set(key, shared);
    try {
      const { outcome, record } = await work;
      return { record, hit: null, outcome };
    } finally {
      this.#running.delete(key);
    }
  }

  /** Runs the waterfall for some groups from nothing known, so the answer depends only on the query. */
  async #ask(
    groups: Operation[],
    person: PersonQuery | null,
    domain: string | null,
    companyKey: ((fields: FieldValues) => string | null) | null,
  ): Promise<{ outcome: WaterfallOutcome; record: CachedRecord }> {
    const skip = new Set(GROUPS.filter((g) => !groups.includes(g)));
    const outcome = await runWaterfall(this.adapters, { person, domain, skip }, emptyKnown(), this.opts);
    // The domain asked about is the key, not something learnt: an answer echoing only it is "unknown".
    const { domain: _asked, ...fields } = outcome.fields;
    const { domain: _source, ...sources } = outcome.sources;
    const record: CachedRecord = {
      fields: domain ? fields : outcome.fields,
      sources: domain ? sources : outcome.sources,
      calls: outcome.calls,
      cost_usd: outcome.cost_usd,
      company_key: companyKey?.(outcome.fields) ?? null,
      stored_at: Date.now(),
    };
    return { outcome, record };
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
    const result = toMultiSourceResponse(address, consensus, this.opts.sandbox);
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
      if (source) fieldSources[name] = this.#label(source);
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

  /** The provenance label of an internal source (services/lib/provenance.ts). */
  #label(source: string): string {
    return source === 'input' || source === 'dns'
      ? source
      : providerLabel(source as ProviderName, this.opts.sandbox);
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

const emptyKnown = (): Known => ({ fields: {}, sources: {} });

/** The key similar names are matched against: the providers' own name of the company. */
function companyKeyOf(fields: FieldValues): string | null {
  return typeof fields.company === 'string' ? toCompanyKey(fields.company) : null;
}

function cacheLevel(hits: CacheHit[], calls: number): CacheLevel {
  if (calls > 0) return 'provider';
  const best = hits.sort((a, b) => LEVEL_RANK[a.level] - LEVEL_RANK[b.level])[0];
  return best ? best.level : 'none';
}

/** `sandbox`: the answers came from the sandbox, so each source is named `sandbox:<provider>`. */
export function toMultiSourceResponse(email: string, c: Consensus, sandbox = false): MultiSourceResult {
  const text = (f: Field) => {
    const v = c.fields[f]?.value;
    return v === undefined ? null : String(v);
  };
  const sources: MultiSourceResult['sources'] = {};
  for (const [provider, summary] of Object.entries(c.per_source)) {
    sources[providerLabel(provider as ProviderName, sandbox)] = summary;
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
