import { isFreeEmailDomain } from '../lib/free-email-providers.ts';
import type { Deliverability } from './types.ts';

/** What phase 3 said about the email, as consensus votes it. Unknown verdicts leave the field open. */
const VERDICT: Record<string, Deliverability> = {
  verified_deliverable: 'deliverable',
  deliverable: 'deliverable',
  accept_all: 'risky',
  role_account: 'risky',
  disposable: 'undeliverable',
  invalid_syntax: 'undeliverable',
  invalid_domain: 'undeliverable',
  undeliverable: 'undeliverable',
};

/** An address no provider can know anything about: asking would only spend money. */
const DEAD = new Set(['invalid_syntax', 'invalid_domain', 'undeliverable', 'disposable', 'missing']);

export function verdictOf(emailStatus: string): Deliverability | null {
  return VERDICT[emailStatus] ?? null;
}

export interface LookupKeys {
  /** The email, when it is worth a paid person lookup. */
  email: string | null;
  /** A company domain (never a free-mail domain). */
  domain: string | null;
  companyKey: string | null;
  /** False when the lead carries nothing any paid provider could match on. */
  paid: boolean;
}

/**
 * Which keys a lead offers to paid providers. A lead whose email is invalid and that has no company
 * domain, company name or LinkedIn URL is never sent to a paid provider.
 */
export function lookupKeys(lead: {
  email: string | null;
  email_status: string;
  domain: string | null;
  company_key: string | null;
  linkedin: string | null;
}): LookupKeys {
  const email = lead.email && !DEAD.has(lead.email_status) ? lead.email.toLowerCase() : null;
  const domain = lead.domain && !isFreeEmailDomain(lead.domain) ? lead.domain.toLowerCase() : null;
  const companyKey = lead.company_key || null;
  return { email, domain, companyKey, paid: Boolean(email || domain || companyKey || lead.linkedin) };
}
