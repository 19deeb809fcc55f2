/**
 * Phase 2: one RawLead → one StandardizedLead (leads.raw → leads.standardized), every field cleaned by
 * the field modules of this folder.
 *
 * Identity: a lead from a file keeps `<batch_id>:<row_index>`. A record written straight to leads.raw by
 * a producer has no row: it joins its account's stream batch (`streamBatchId`, or the batch_id it
 * carries) and its id comes from where it sits in Kafka (sha1 of topic/partition/offset), so a
 * redelivered record gets the same id; its row_index is -1 (no position in a file).
 *
 * Minimum to keep a lead: an email address (anything with an "@": verify judges it), or a person's name
 * together with a company (name or domain) — enough to find the person another way. Anything less is
 * rejected as `insufficient_contact` (recorded in leads.failed, not retried). A lead with an unusable
 * email but a name and company is kept: verify marks the email.
 */
import { createHash } from 'node:crypto';
import type {
  LeadMeta,
  LeadRejection,
  RawLead,
  StandardizedFields,
  StandardizedLead,
} from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { cleanField } from '../lib/text.ts';
import type { MapPhase } from '../runtime/phase.ts';
import { dlq, ok, type PhaseResult, reject } from '../runtime/result.ts';
import { standardizeCompany } from './company.ts';
import { countryFromDomain, standardizeCountry } from './country.ts';
import { domainFromEmail, domainFromWebsite } from './domain.ts';
import { emailDomain, standardizeEmail } from './email.ts';
import { standardizeLinkedin } from './linkedin.ts';
import { memoize } from './memo.ts';
import { standardizeName } from './name.ts';
import { standardizePhone } from './phone.ts';
import { standardizeTitle } from './title.ts';

/** Where a raw record sits in Kafka: the parts of the runtime's context this phase needs. */
export interface LeadOrigin {
  topic: string;
  partition: number;
  offset: string;
}

export const PHASE = 'standardize';

/**
 * The open stream batch of an account, which direct producers' leads join. One id per account; opening,
 * closing and rolling stream batches over is the batch tracker's business (issue 5).
 */
export function streamBatchId(accountId: string): string {
  return `stream_${accountId}`;
}

function originId(origin: LeadOrigin): string {
  return createHash('sha1')
    .update(`${origin.topic}:${origin.partition}:${origin.offset}`)
    .digest('hex')
    .slice(0, 20);
}

/** Identity and provenance of a raw lead (see the module comment). */
export function leadMeta(raw: RawLead, origin: LeadOrigin): LeadMeta {
  const fromFile = raw.batch_id !== null && raw.row_index !== null;
  const batchId = raw.batch_id ?? streamBatchId(raw.account_id);
  return {
    lead_id: fromFile ? `${raw.batch_id}:${raw.row_index}` : `${batchId}:${originId(origin)}`,
    account_id: raw.account_id,
    batch_id: batchId,
    row_index: fromFile ? (raw.row_index as number) : -1,
    source: raw.source,
    received_at: raw.received_at,
  };
}

function cleanExtras(extras: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extras)) {
    const cleanKey = cleanField(key);
    const cleanValue = cleanField(value);
    if (cleanKey !== null && cleanValue !== null) out[cleanKey] = cleanValue;
  }
  return out;
}

// Values that repeat across the rows of an upload, computed once each (see memo.ts).
const titleOf = memoize(standardizeTitle);
const companyOf = memoize(standardizeCompany);
const countryOf = memoize(standardizeCountry);

/** Every field of a raw lead, standardized. Pure and total: never throws. */
export function standardizeFields(raw: RawLead): StandardizedFields {
  const email = standardizeEmail(raw.email);
  const name = standardizeName(raw);
  const title = titleOf(raw.title);
  const company = companyOf(raw.company);
  const website = cleanField(raw.website);
  const websiteDomain = domainFromWebsite(website);
  const country = countryOf(raw.country);
  const mailDomain = email === null ? null : emailDomain(email.email);
  // National numbers need a region: the lead's country, else what its domains' country codes say.
  const region = country ?? countryFromDomain(websiteDomain) ?? countryFromDomain(mailDomain);
  const phone = standardizePhone(raw.phone, region);
  return {
    email: email?.email ?? null,
    email_display: email?.display ?? null,
    first_name: name.first_name,
    last_name: name.last_name,
    full_name: name.full_name,
    honorific: name.honorific,
    name_suffix: name.name_suffix,
    title_raw: cleanField(raw.title),
    title_normalized: title?.normalized ?? null,
    seniority: title?.seniority ?? 'Unknown',
    department: title?.department ?? 'Other',
    company_name: company?.name ?? null,
    company_key: company?.key ?? null,
    domain: websiteDomain ?? domainFromEmail(email?.email ?? null),
    website,
    country,
    phone_e164: phone?.e164 ?? null,
    phone_raw: phone?.raw ?? null,
    linkedin_url: standardizeLinkedin(raw.linkedin_url),
    city: cleanField(raw.city),
    industry: cleanField(raw.industry),
    employees: cleanField(raw.employees),
    extras: cleanExtras(raw.extras),
  };
}

function missingContact(lead: StandardizedFields): string | null {
  if (lead.email?.includes('@')) return null;
  const hasName = lead.first_name !== null || lead.last_name !== null || lead.full_name !== null;
  const hasCompany = lead.company_name !== null || lead.domain !== null;
  if (hasName && hasCompany) return null;
  const missing = [!hasName && 'name', !hasCompany && 'company'].filter(Boolean).join(' and ');
  return `no email address, and no ${missing} to identify the person by`;
}

export function standardizeLead(raw: RawLead, origin: LeadOrigin): PhaseResult<StandardizedLead> {
  if (cleanField(raw.account_id) === null) return dlq('raw lead without account_id');
  const lead = standardizeFields(raw);
  const missing = missingContact(lead);
  if (missing !== null) return reject('insufficient_contact', missing);
  return ok({ meta: leadMeta(raw, origin), lead });
}

/** The raw record as read, for the leads.failed entry of a rejected lead. */
function originalFields(raw: RawLead): Record<string, string> {
  const original: Record<string, string> = { ...raw.extras };
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string' && key !== 'account_id' && key !== 'batch_id' && key !== 'source')
      original[key] = value;
  }
  return original;
}

export function rejectionOf(raw: RawLead, reason: string, detail: string, origin: LeadOrigin): LeadRejection {
  const meta = leadMeta(raw, origin);
  return {
    lead_id: meta.lead_id,
    account_id: meta.account_id,
    batch_id: meta.batch_id,
    row_index: raw.row_index,
    line_number: null,
    phase: PHASE,
    reason,
    detail,
    original: originalFields(raw),
    rejected_at: Date.now(),
  };
}

export const standardizePhase: MapPhase<RawLead, StandardizedLead> = {
  name: PHASE,
  input: { topic: TOPICS.raw, record: 'RawLead' },
  output: { topic: TOPICS.standardized, record: 'StandardizedLead' },
  phase: standardizeLead,
  rejectionOf,
};
