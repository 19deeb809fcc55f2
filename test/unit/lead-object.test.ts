import { describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { ScoredLead } from '../../schemas/generated.ts';
import { CSV_COLUMNS, csvRow, leadObject, neutralizeCell } from '../../services/lib/lead-object.ts';
import { provenanceKind } from '../../services/lib/provenance.ts';

describe('CSV formula neutralisation', () => {
  it.each([
    ['=HYPERLINK("http://evil","x")', `'=HYPERLINK("http://evil","x")`],
    ['+1-202-555-0199', `'+1-202-555-0199`],
    ['-2+3', `'-2+3`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\tcmd', `'\tcmd`],
    ['\rcmd', `'\rcmd`],
  ])('neutralises %j', (input, expected) => {
    expect(neutralizeCell(input)).toBe(expected);
  });

  it.each(['Sarah Miller', 'sarah@techflow.com', '98.5', '', "O'Brien", 'a=b'])('keeps %j as is', (input) => {
    expect(neutralizeCell(input)).toBe(input);
  });
});

describe('provenance and evidence of a lead object', () => {
  const scored = (enrichment: Partial<ScoredLead['enrichment']>, lead: Partial<ScoredLead['lead']>) => ({
    ...enrichedLead({ lead_id: 'b:7', row_index: 7, lead, enrichment }),
    dedup: { is_duplicate: false, survivor_id: null, confidence: 1, cluster_size: 1, filled_from: {} },
    score: {
      status: 'REJECTED',
      score: 41,
      reasons: [],
      coverage: 0.6667,
      missing: ['company_size', 'signals'],
    },
  });

  it('names where each enrichable value came from, null for an empty one, in JSON and CSV', () => {
    const o = leadObject(
      scored(
        {
          company_name: 'Acme',
          person_title: 'CTO',
          technologies: ['Google Workspace'],
          field_sources: { company_name: 'input', person_title: 'sandbox:apollo_io', technologies: 'dns' },
        },
        { email: 'ann@acme.com', company_name: 'Acme', title_normalized: null },
      ),
    );
    expect(o.provenance).toEqual({
      company_name: 'input',
      title_normalized: 'sandbox:apollo_io',
      signals: null,
      technologies: 'dns',
    });
    expect(o.evidence).toEqual({ coverage: 0.6667, missing: ['company_size', 'signals'] });
    expect(provenanceKind(o.provenance.title_normalized ?? '')).toBe('sandbox');
    const row = csvRow(o);
    expect(row).toMatchObject({
      title_normalized: 'CTO',
      title_normalized_source: 'sandbox:apollo_io',
      technologies_source: 'dns',
      signals_source: '',
      evidence_coverage: '0.6667',
      evidence_missing: 'company_size; signals',
    });
    expect(Object.keys(row)).toEqual([...CSV_COLUMNS]);
  });

  it("the lead's own title and company are input, whatever enrichment found", () => {
    const o = leadObject(
      scored(
        { company_name: null, person_title: 'CTO', field_sources: { person_title: 'apollo_io' } },
        { email: 'ann@acme.com', company_name: 'Acme Ltd', title_normalized: 'VP of Sales' },
      ),
    );
    expect(o.account.name).toBe('Acme Ltd');
    expect(o.contact.title_normalized).toBe('VP of Sales');
    expect(o.provenance).toMatchObject({ company_name: 'input', title_normalized: 'input' });
    expect(['apollo_io', 'clearbit', 'hunter_io', 'snov_io'].map(provenanceKind)).toEqual(
      Array(4).fill('provider'),
    );
  });
});
