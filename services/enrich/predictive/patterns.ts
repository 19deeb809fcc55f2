/**
 * Pattern detection for predictive pre-enrichment: watching leads as they pass the upstream topics
 * (before they reach enrichment), it spots companies that are about to be asked for, so a background
 * queue can enrich them first. Pure and transport-free: the watcher feeds it one observation at a time
 * and acts on the predictions it returns.
 *
 * Three patterns, each per batch:
 * - company batch: one company (domain, else company key) reaches `companyBatchMin` leads;
 * - sequential: one domain in `sequentialMin` consecutive rows of the batch (row_index order as seen);
 * - domain pattern: `domainPatternMin` different hostnames of one registrable domain (eu.acme.com,
 *   us.acme.com, acme.com), or different domains with one company key (acme.com, acme.io) — the
 *   company is predicted under its registrable domain.
 * A company is predicted at most once per batch, by the first pattern that fires.
 */
import { registrableDomain } from '../cache.ts';

export type PatternKind = 'company_batch' | 'sequential' | 'domain_pattern';

export interface Observation {
  batch_id: string;
  row_index: number | null;
  /** Company domain of the lead (never a free-mail domain). */
  domain: string | null;
  company_key: string | null;
}

export interface Prediction {
  batch_id: string;
  /** The domain to pre-enrich (null when only the company key is known). */
  domain: string | null;
  company_key: string | null;
  pattern: PatternKind;
  /** Leads of the batch that pointed at this company when the pattern fired. */
  evidence: number;
}

export interface PatternOptions {
  companyBatchMin: number;
  sequentialMin: number;
  domainPatternMin: number;
  /** Batches tracked at once; the least recently seen is forgotten beyond it. */
  maxBatches: number;
}

export const DEFAULT_PATTERN_OPTIONS: PatternOptions = {
  companyBatchMin: 3,
  sequentialMin: 2,
  domainPatternMin: 2,
  maxBatches: 1_000,
};

interface BatchState {
  counts: Map<string, number>;
  predicted: Set<string>;
  last: { company: string; row: number | null; run: number } | null;
  /** registrable domain or company key → distinct hostnames seen under it */
  variants: Map<string, Set<string>>;
}

export type PatternCounts = Record<PatternKind, number>;

export class PatternDetector {
  readonly #batches = new Map<string, BatchState>();
  readonly counts: PatternCounts = { company_batch: 0, sequential: 0, domain_pattern: 0 };

  constructor(private readonly opts: PatternOptions = DEFAULT_PATTERN_OPTIONS) {}

  /** Records one lead; returns the predictions it triggers (usually none). */
  observe(o: Observation): Prediction[] {
    const domain = o.domain?.toLowerCase() || null;
    const company = domain ? registrableDomain(domain) : o.company_key || null;
    if (!company) return [];
    const batch = this.#batch(o.batch_id);
    const out: Prediction[] = [];
    const predict = (pattern: PatternKind, key: string, target: string | null, evidence: number) => {
      if (batch.predicted.has(key)) return;
      batch.predicted.add(key);
      this.counts[pattern]++;
      out.push({ batch_id: o.batch_id, domain: target, company_key: o.company_key, pattern, evidence });
    };

    const seen = (batch.counts.get(company) ?? 0) + 1;
    batch.counts.set(company, seen);

    // Consecutive rows: the previous observation of this batch, one row earlier (or unnumbered).
    const consecutive =
      batch.last?.company === company &&
      (o.row_index === null || batch.last.row === null || o.row_index === batch.last.row + 1);
    const run = consecutive && batch.last ? batch.last.run + 1 : 1;
    batch.last = { company, row: o.row_index, run };

    if (domain) {
      for (const group of [registrableDomain(domain), o.company_key].filter((g): g is string => Boolean(g))) {
        const hosts = batch.variants.get(group) ?? new Set<string>();
        hosts.add(domain);
        batch.variants.set(group, hosts);
        if (hosts.size >= this.opts.domainPatternMin) predict('domain_pattern', company, company, hosts.size);
      }
    }
    if (run >= this.opts.sequentialMin) predict('sequential', company, domain ? company : null, run);
    if (seen >= this.opts.companyBatchMin) predict('company_batch', company, domain ? company : null, seen);
    return out;
  }

  /** Forgets a finished batch. */
  endBatch(batchId: string): void {
    this.#batches.delete(batchId);
  }

  #batch(id: string): BatchState {
    let state = this.#batches.get(id);
    if (state) {
      // Re-insert: Map order is recency order, so the first key is the least recently seen batch.
      this.#batches.delete(id);
    } else {
      state = { counts: new Map(), predicted: new Set(), last: null, variants: new Map() };
      if (this.#batches.size >= this.opts.maxBatches) {
        const oldest = this.#batches.keys().next().value;
        if (oldest !== undefined) this.#batches.delete(oldest);
      }
    }
    this.#batches.set(id, state);
    return state;
  }
}
