import { describe, expect, it } from 'vitest';
import { buildConsensus } from '../../services/enrich/consensus.ts';
import { toMultiSourceResponse } from '../../services/enrich/enricher.ts';

const W = { apollo: 0.9, clearbit: 0.95, hunter: 0.9, snov: 0.8 };

describe('buildConsensus', () => {
  it('scores full agreement by the weighted share and the chance that one agreeing source is right', () => {
    const c = buildConsensus(
      [
        { provider: 'hunter', fields: { email: 'deliverable' } },
        { provider: 'snov', fields: { email: 'deliverable' } },
        { provider: 'apollo', fields: { email: 'deliverable' } },
      ],
      W,
    );
    const email = c.fields.email;
    expect(email?.agreement_score).toBe(1);
    expect(email?.sources).toBe(3);
    expect(email?.confidence).toBeCloseTo(1 - 0.1 * 0.2 * 0.1, 12);
    expect(c.per_source.snov).toEqual({ agreement: true, confidence: 0.8, fields_provided: ['email'] });
  });

  it('weights disagreement by reliability and picks the heavier group', () => {
    const c = buildConsensus(
      [
        { provider: 'apollo', fields: { title: 'VP of Sales' } },
        { provider: 'clearbit', fields: { title: 'Sales Manager' } },
        { provider: 'snov', fields: { title: 'vp of  sales' } },
      ],
      W,
    );
    const title = c.fields.title;
    // apollo + snov agree (normalised) with weight 1.7 against clearbit's 0.95.
    expect(title?.value).toBe('VP of Sales');
    expect(title?.source).toBe('apollo');
    expect(title?.agreeing).toEqual(['apollo', 'snov']);
    expect(title?.dissenting).toEqual(['clearbit']);
    expect(title?.agreement_score).toBeCloseTo(1.7 / 2.65, 12);
    expect(title?.confidence).toBeCloseTo((1.7 / 2.65) * (1 - 0.1 * 0.2), 12);
    expect(c.per_source.clearbit).toEqual({ agreement: false, confidence: 0, fields_provided: ['title'] });
  });

  it('does not count silent providers for or against a field', () => {
    const c = buildConsensus(
      [
        { provider: 'apollo', fields: { name: 'Sarah Miller', company: 'TechFlow Inc' } },
        { provider: 'clearbit', fields: { company: 'Techflow' } },
        { provider: 'hunter', fields: {} },
      ],
      W,
    );
    expect(c.fields.name).toMatchObject({ agreement_score: 1, sources: 1, agreeing: ['apollo'] });
    expect(c.fields.name?.confidence).toBeCloseTo(0.9, 12);
    // Legal form and case do not make a disagreement.
    expect(c.fields.company).toMatchObject({ agreement_score: 1, sources: 2, value: 'TechFlow Inc' });
    expect(c.per_source.hunter).toEqual({ agreement: false, confidence: 0, fields_provided: [] });
  });

  it('breaks a tie in favour of the source that answered first', () => {
    const c = buildConsensus(
      [
        { provider: 'hunter', fields: { industry: 'Retail' } },
        { provider: 'apollo', fields: { industry: 'Insurance' } },
      ],
      W,
    );
    expect(c.fields.industry?.value).toBe('Retail');
    expect(c.fields.industry?.agreement_score).toBeCloseTo(0.5, 12);
  });

  it('compares headcounts by band, so close estimates agree', () => {
    const c = buildConsensus(
      [
        { provider: 'apollo', fields: { employee_count: 800 } },
        { provider: 'hunter', fields: { employee_count: 750 } },
        { provider: 'clearbit', fields: { employee_count: 2400 } },
      ],
      W,
    );
    expect(c.fields.employee_count?.agreeing).toEqual(['apollo', 'hunter']);
  });

  it('derives overall confidence, data quality and coverage from the field scores', () => {
    const c = buildConsensus(
      [
        { provider: 'hunter', fields: { email: 'deliverable', name: 'Ann Lee' } },
        { provider: 'clearbit', fields: { name: 'Ann Lee', title: 'CTO', company: 'Acme' } },
        { provider: 'snov', fields: { email: 'risky', title: 'CTO' } },
      ],
      W,
    );
    const fields = Object.values(c.fields);
    expect(fields).toHaveLength(4);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(c.confidence_score).toBeCloseTo(mean(fields.map((f) => f.confidence)), 12);
    expect(c.data_quality).toBeCloseTo(mean(fields.map((f) => f.agreement_score)), 12);
    expect(c.fields.email?.agreement_score).toBeCloseTo(0.9 / 1.7, 12);
    // email, name, title, company of the six lead fields (phone and linkedin missing).
    expect(c.coverage).toBeCloseTo(4 / 6, 12);
  });

  it('merges list fields as a union that remembers the first contributor', () => {
    const c = buildConsensus(
      [
        { provider: 'apollo', fields: { technologies: ['Salesforce', 'Slack'] } },
        { provider: 'hunter', fields: { technologies: ['slack', 'Zendesk'] } },
      ],
      W,
    );
    expect(c.lists.technologies).toEqual({ value: ['Salesforce', 'Slack', 'Zendesk'], source: 'apollo' });
    expect(c.fields.technologies).toBeUndefined();
  });

  it('is empty, with zero scores, when no source answered', () => {
    const c = buildConsensus([], W);
    expect(c).toMatchObject({ fields: {}, confidence_score: 0, data_quality: 0, coverage: 0 });
  });
});

describe('toMultiSourceResponse', () => {
  it('has the shape of the multi-source response in API.md', () => {
    const c = buildConsensus(
      [
        { provider: 'hunter', fields: { email: 'deliverable', name: 'Ann Lee' } },
        { provider: 'clearbit', fields: { name: 'Ann Lee', company: 'Acme' } },
        { provider: 'snov', fields: { email: 'deliverable' } },
      ],
      W,
    );
    const r = toMultiSourceResponse('ann.lee@acme.com', c);
    expect(r.lead).toEqual({
      email: 'ann.lee@acme.com',
      name: 'Ann Lee',
      title: null,
      company: 'Acme',
      phone: null,
      linkedin: null,
    });
    expect(Object.keys(r.sources).sort()).toEqual(['clearbit', 'hunter_io', 'snov_io']);
    expect(r.sources.hunter_io).toEqual({
      agreement: true,
      confidence: 0.9,
      fields_provided: ['email', 'name'],
    });
    expect(r.consensus.email).toEqual({ agreement_score: 1, sources: 2 });
    expect(r.consensus.title).toEqual({ agreement_score: 0, sources: 0 });
    expect(Object.keys(r.validation)).toEqual(['confidence_score', 'data_quality', 'coverage']);
  });
});
