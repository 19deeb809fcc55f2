import { describe, expect, it } from 'vitest';
import { type Observation, PatternDetector } from '../../services/enrich/predictive/patterns.ts';

const obs = (
  batch: string,
  row: number | null,
  domain: string | null,
  key: string | null = null,
): Observation => ({
  batch_id: batch,
  row_index: row,
  domain,
  company_key: key,
});

describe('PatternDetector', () => {
  it('predicts a company once it reaches the company-batch threshold, and only once', () => {
    const d = new PatternDetector({
      companyBatchMin: 3,
      sequentialMin: 99,
      domainPatternMin: 99,
      maxBatches: 10,
    });
    expect(d.observe(obs('b1', 0, 'acme.com'))).toEqual([]);
    expect(d.observe(obs('b1', 5, 'other.com'))).toEqual([]);
    expect(d.observe(obs('b1', 9, 'acme.com'))).toEqual([]);
    expect(d.observe(obs('b1', 12, 'acme.com'))).toEqual([
      { batch_id: 'b1', domain: 'acme.com', company_key: null, pattern: 'company_batch', evidence: 3 },
    ]);
    expect(d.observe(obs('b1', 20, 'acme.com'))).toEqual([]);
    expect(d.counts).toEqual({ company_batch: 1, sequential: 0, domain_pattern: 0 });
  });

  it('counts per batch: the same company in another batch starts again', () => {
    const d = new PatternDetector({
      companyBatchMin: 2,
      sequentialMin: 99,
      domainPatternMin: 99,
      maxBatches: 10,
    });
    d.observe(obs('b1', 0, 'acme.com'));
    expect(d.observe(obs('b2', 7, 'acme.com'))).toEqual([]);
    expect(d.observe(obs('b2', 9, 'acme.com'))).toHaveLength(1);
  });

  it('detects one domain in consecutive rows, not when rows are apart', () => {
    const d = new PatternDetector({
      companyBatchMin: 99,
      sequentialMin: 2,
      domainPatternMin: 99,
      maxBatches: 10,
    });
    d.observe(obs('b', 0, 'apart.com'));
    d.observe(obs('b', 1, 'x.com'));
    expect(d.observe(obs('b', 2, 'apart.com'))).toEqual([]);
    d.observe(obs('b', 3, 'seq.com'));
    expect(d.observe(obs('b', 4, 'seq.com'))).toEqual([
      { batch_id: 'b', domain: 'seq.com', company_key: null, pattern: 'sequential', evidence: 2 },
    ]);
  });

  it('groups hostnames of one registrable domain and domains of one company key as a domain pattern', () => {
    const d = new PatternDetector({
      companyBatchMin: 99,
      sequentialMin: 99,
      domainPatternMin: 2,
      maxBatches: 10,
    });
    expect(d.observe(obs('b', 0, 'eu.globex.co.uk'))).toEqual([]);
    expect(d.observe(obs('b', 3, 'us.globex.co.uk'))).toEqual([
      { batch_id: 'b', domain: 'globex.co.uk', company_key: null, pattern: 'domain_pattern', evidence: 2 },
    ]);
    expect(d.observe(obs('b', 5, 'initech.com', 'initech'))).toEqual([]);
    expect(d.observe(obs('b', 8, 'initech.io', 'initech'))).toEqual([
      { batch_id: 'b', domain: 'initech.io', company_key: 'initech', pattern: 'domain_pattern', evidence: 2 },
    ]);
    expect(d.counts.domain_pattern).toBe(2);
  });

  it('uses the company key when a lead has no domain, and ignores leads with neither', () => {
    const d = new PatternDetector({
      companyBatchMin: 2,
      sequentialMin: 99,
      domainPatternMin: 99,
      maxBatches: 10,
    });
    expect(d.observe(obs('b', 0, null, null))).toEqual([]);
    d.observe(obs('b', 1, null, 'hooli'));
    expect(d.observe(obs('b', 4, null, 'hooli'))).toEqual([
      { batch_id: 'b', domain: null, company_key: 'hooli', pattern: 'company_batch', evidence: 2 },
    ]);
  });

  it('forgets the least recently seen batch beyond its bound', () => {
    const d = new PatternDetector({
      companyBatchMin: 2,
      sequentialMin: 99,
      domainPatternMin: 99,
      maxBatches: 2,
    });
    d.observe(obs('old', 0, 'acme.com'));
    d.observe(obs('b2', 0, 'x.com'));
    d.observe(obs('b3', 0, 'y.com'));
    // "old" was evicted, so its first sighting no longer counts.
    expect(d.observe(obs('old', 9, 'acme.com'))).toEqual([]);
    expect(d.observe(obs('old', 11, 'acme.com'))).toHaveLength(1);
  });
});
