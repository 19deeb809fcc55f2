import { describe, expect, it } from 'vitest';
import type { RawLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';
import { runEmbedded } from '../../services/runtime/embedded.ts';
import {
  rejectionOf,
  standardizeLead,
  standardizePhase,
  streamBatchId,
} from '../../services/standardize/phase.ts';

const origin = { topic: 'leads.raw', partition: 3, offset: '1042' };

function raw(fields: Partial<RawLead>): RawLead {
  return {
    account_id: 'acc_1',
    batch_id: 'b_7',
    row_index: 12,
    source: 'csv',
    received_at: 1_764_300_000_000,
    email: null,
    first_name: null,
    last_name: null,
    full_name: null,
    title: null,
    company: null,
    website: null,
    phone: null,
    country: null,
    city: null,
    linkedin_url: null,
    industry: null,
    employees: null,
    extras: {},
    ...fields,
  };
}

function okValue(lead: RawLead, at = origin) {
  const result = standardizeLead(lead, at);
  if (result.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.value;
}

describe('standardizeLead', () => {
  it('standardizes every field of a messy uploaded row', () => {
    const value = okValue(
      raw({
        email: ' Sarah Miller <Sarah.Miller@TechFlow.COM> ',
        full_name: 'MS. SARAH MILLER',
        title: 'vp sales',
        company: 'TECHFLOW SYSTEMS, INC.',
        website: 'https://www.techflow.com/about',
        phone: '(202) 555-0199',
        country: 'U.S.A.',
        city: '  San\u00a0Francisco ',
        linkedin_url: 'https://www.linkedin.com/in/sarahmiller',
        industry: 'Software\u200b',
        employees: '51-200',
        extras: { ' Lead Source ': ' Webinar ', Notes: 'N/A' },
      }),
    );
    expect(value.meta).toEqual({
      lead_id: 'b_7:12',
      account_id: 'acc_1',
      batch_id: 'b_7',
      row_index: 12,
      source: 'csv',
      received_at: 1_764_300_000_000,
    });
    expect(value.lead).toEqual({
      email: 'sarah.miller@techflow.com',
      email_display: 'sarah.miller@techflow.com',
      first_name: 'Sarah',
      last_name: 'Miller',
      full_name: 'Sarah Miller',
      honorific: 'Ms.',
      name_suffix: null,
      title_raw: 'vp sales',
      title_normalized: 'VP of Sales',
      seniority: 'VP',
      department: 'Sales',
      company_name: 'Techflow Systems, Inc.',
      company_key: 'techflow systems',
      domain: 'techflow.com',
      website: 'https://www.techflow.com/about',
      country: 'US',
      phone_e164: '+12025550199',
      phone_raw: '(202) 555-0199',
      linkedin_url: 'https://www.linkedin.com/in/sarahmiller',
      city: 'San Francisco',
      industry: 'Software',
      employees: '51-200',
      extras: { 'Lead Source': 'Webinar' },
    });
    expect(loadSchema('StandardizedLead').type.isValid(value)).toBe(true);
  });

  it('gives a direct producer lead a stable id from its Kafka position, in the account stream batch', () => {
    const lead = raw({ batch_id: null, row_index: null, source: 'kafka', email: 'a@acme.com' });
    const first = okValue(lead).meta;
    expect(first.batch_id).toBe(streamBatchId('acc_1'));
    expect(first.batch_id).toBe('stream_acc_1');
    expect(first.row_index).toBe(-1);
    expect(first.lead_id).toMatch(/^stream_acc_1:[0-9a-f]{20}$/);
    // Redelivery of the same record: same id. Another offset or partition: another id.
    expect(okValue(lead).meta.lead_id).toBe(first.lead_id);
    expect(okValue(lead, { ...origin, offset: '1043' }).meta.lead_id).not.toBe(first.lead_id);
    expect(okValue(lead, { ...origin, partition: 4 }).meta.lead_id).not.toBe(first.lead_id);
  });

  it('keeps the batch a producer names but hashes the id when it has no row index', () => {
    const meta = okValue(raw({ row_index: null, email: 'a@acme.com' })).meta;
    expect(meta.batch_id).toBe('b_7');
    expect(meta.lead_id).toMatch(/^b_7:[0-9a-f]{20}$/);
  });

  it('rejects a lead with no email and no name with a company', () => {
    for (const lead of [
      raw({}),
      raw({ email: 'N/A', first_name: 'Jane', last_name: 'Doe' }),
      raw({ company: 'Acme Inc', phone: '+1 202 555 0199' }),
    ]) {
      const result = standardizeLead(lead, origin);
      expect(result.kind).toBe('reject');
      if (result.kind === 'reject') {
        expect(result.reason).toBe('insufficient_contact');
        expect(result.detail).toMatch(/^no email address, and no /);
      }
    }
  });

  it('keeps a lead with an unusable email when it has a name and a company (verify marks the email)', () => {
    const value = okValue(
      raw({ email: 'jane.doe', full_name: 'Jane Doe', company: 'Acme', phone: '2025550199' }),
    );
    expect(value.lead.email).toBe('jane.doe');
    expect(value.lead.company_key).toBe('acme');
    const byWebsite = okValue(raw({ first_name: 'Jane', website: 'acme.io' }));
    expect(byWebsite.lead.domain).toBe('acme.io');
  });

  it('sends a record without account to the DLQ', () => {
    expect(standardizeLead(raw({ account_id: ' ', email: 'a@acme.com' }), origin).kind).toBe('dlq');
  });

  it('reads national phone numbers in the region the lead country, else its domain, points to', () => {
    expect(
      okValue(raw({ email: 'a@acme.com', phone: '030 901820', country: 'Deutschland' })).lead.phone_e164,
    ).toBe('+4930901820');
    expect(okValue(raw({ email: 'a@acme.de', phone: '030 901820' })).lead.phone_e164).toBe('+4930901820');
    expect(okValue(raw({ email: 'a@yahoo.co.uk', phone: '020 7946 0958' })).lead.phone_e164).toBe(
      '+442079460958',
    );
    // Generic TLDs say nothing: the number stays unparsed, its raw text kept.
    const unknown = okValue(raw({ email: 'a@acme.io', phone: '030 901820' })).lead;
    expect(unknown.phone_e164).toBeNull();
    expect(unknown.phone_raw).toBe('030 901820');
  });

  it('takes the company domain from the website first, then from a corporate email only', () => {
    expect(okValue(raw({ email: 'jane@acme.com', website: 'www.acme-group.co.uk' })).lead.domain).toBe(
      'acme-group.co.uk',
    );
    expect(okValue(raw({ email: 'jane@mail.acme.com' })).lead.domain).toBe('acme.com');
    expect(okValue(raw({ email: 'jane@gmail.com' })).lead.domain).toBeNull();
  });

  it('records a rejection with the row as read', () => {
    const lead = raw({ company: 'Acme', extras: { Source: 'fair' } });
    const rejection = rejectionOf(lead, 'insufficient_contact', 'no email address, and no name', origin);
    expect(rejection).toMatchObject({
      lead_id: 'b_7:12',
      account_id: 'acc_1',
      batch_id: 'b_7',
      row_index: 12,
      line_number: null,
      phase: 'standardize',
      reason: 'insufficient_contact',
      original: { company: 'Acme', Source: 'fair' },
    });
    expect(loadSchema('LeadRejection').type.isValid(rejection)).toBe(true);
  });
});

describe('standardizePhase in the embedded runtime', () => {
  it('routes ok leads to the output and rejections to leads.failed records, through the Avro schemas', async () => {
    const result = await runEmbedded(
      [standardizePhase],
      [
        raw({ email: 'JANE@ACME.COM' }),
        raw({ row_index: 13 }),
        raw({ row_index: 14, full_name: 'Ann Lee', company: 'X' }),
      ],
    );
    expect(result.errors).toEqual([]);
    expect(result.outputs.map((o) => (o as { meta: { lead_id: string } }).meta.lead_id)).toEqual([
      'b_7:12',
      'b_7:14',
    ]);
    expect(result.rejections.map((r) => [r.lead_id, r.reason])).toEqual([['b_7:13', 'insufficient_contact']]);
  });
});
