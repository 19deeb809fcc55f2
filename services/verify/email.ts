import { LRUCache } from 'lru-cache';
import { isFreeEmailDomain } from '../lib/free-email-providers.ts';
import { isDisposableDomain } from './disposable.ts';
import { checkSyntax, type ParsedAddress } from './email-syntax.ts';
import { suggestDomain } from './email-typo.ts';
import type { MailRoute } from './mail-route.ts';
import { isRoleAccount } from './role-accounts.ts';
import { type HostResolver, type ProbeOptions, probeMailbox } from './smtp-probe.ts';

/** The `email_status` vocabulary (README.md, "Email statuses"; schemas/types/Verification.avsc). */
export type EmailStatus =
  | 'verified_deliverable'
  | 'deliverable'
  | 'accept_all'
  | 'disposable'
  | 'role_account'
  | 'invalid_syntax'
  | 'invalid_domain'
  | 'undeliverable'
  | 'unknown'
  | 'missing';

export type EmailVerdict = {
  status: EmailStatus;
  reason: string;
  freeProvider: boolean;
  role: boolean;
  disposable: boolean;
  suggestion: string | null;
  mxHosts: string[];
  /** The resolver failed in a way that passes (timeout, SERVFAIL): asking again may give an answer. */
  dnsUnanswered?: true;
};

/** What the checks before DNS found: flags are set for every well-formed address, whatever decides. */
type Screened = { address: ParsedAddress; verdict: EmailVerdict };

export type EmailDeps = {
  route: (domain: string) => Promise<MailRoute>;
  resolveHost: HostResolver;
  probe: ProbeOptions;
};

/**
 * Steps 1–5 of the pipeline, all local: syntax, typo suggestion, disposable, role, free provider.
 * Returns the verdict when a step decides, or the address with its flags to go on to DNS.
 */
export function screenEmail(email: string | null): EmailVerdict | Screened {
  if (!email?.trim()) return verdict('missing', 'no email address');
  const syntax = checkSyntax(email.trim());
  if (!syntax.ok) return verdict('invalid_syntax', syntax.reason);
  const { address } = syntax;
  const flags: EmailVerdict = {
    ...verdict('unknown', ''),
    ...domainFacts(address.domain),
    role: isRoleAccount(address.local),
  };
  return disposableStep(flags) ?? roleStep(flags) ?? { address, verdict: flags };
}

/** All seven steps; DNS and SMTP failures to ask become `unknown`, never an exception. */
export async function verifyEmail(
  email: string | null,
  deps: EmailDeps,
  probe: boolean,
): Promise<EmailVerdict> {
  const screened = screenEmail(email);
  if (!('address' in screened)) return screened;
  const { address, verdict: flags } = screened;
  const routed = dnsStep(flags, address.domain, await deps.route(address.domain));
  if (routed.status !== 'deliverable' || !probe) return routed;
  return smtpStep(routed, address, deps);
}

type DomainFacts = Pick<EmailVerdict, 'suggestion' | 'disposable' | 'freeProvider'>;
const factsByDomain = new LRUCache<string, DomainFacts>({ max: 50_000 });

/** What the lists say about a domain; a batch has many leads per domain, so it is worked out once. */
function domainFacts(domain: string): DomainFacts {
  let facts = factsByDomain.get(domain);
  if (!facts) {
    facts = {
      suggestion: suggestDomain(domain),
      disposable: isDisposableDomain(domain),
      freeProvider: isFreeEmailDomain(domain),
    };
    factsByDomain.set(domain, facts);
  }
  return facts;
}

function disposableStep(v: EmailVerdict): EmailVerdict | null {
  return v.disposable
    ? { ...v, status: 'disposable', reason: 'domain of a disposable-mailbox service' }
    : null;
}

function roleStep(v: EmailVerdict): EmailVerdict | null {
  return v.role ? { ...v, status: 'role_account', reason: 'local part names a role, not a person' } : null;
}

function dnsStep(v: EmailVerdict, domain: string, route: MailRoute): EmailVerdict {
  switch (route.kind) {
    case 'mx':
      return {
        ...v,
        status: 'deliverable',
        reason: 'domain has MX records; mailbox not probed',
        mxHosts: route.hosts,
      };
    case 'implicit_mx':
      return {
        ...v,
        status: 'deliverable',
        reason:
          'no MX records; the domain address receives mail (implicit MX, RFC 5321 §5.1); mailbox not probed',
        mxHosts: route.hosts,
      };
    case 'null_mx':
      return {
        ...v,
        status: 'undeliverable',
        reason: 'domain publishes a null MX (RFC 7505): it accepts no mail',
      };
    case 'nxdomain':
      return { ...v, status: 'invalid_domain', reason: `domain ${domain} does not exist (NXDOMAIN)` };
    case 'no_mail_host':
      return { ...v, status: 'invalid_domain', reason: `domain ${domain} has neither MX nor A/AAAA records` };
    case 'unresolved':
      return {
        ...v,
        status: 'unknown',
        reason: `DNS could not answer: ${route.reason}`,
        ...(route.passing ? { dnsUnanswered: true as const } : {}),
      };
  }
}

async function smtpStep(v: EmailVerdict, address: ParsedAddress, deps: EmailDeps): Promise<EmailVerdict> {
  const probed = await probeMailbox(address, v.mxHosts, deps.resolveHost, deps.probe);
  return { ...v, status: probed.status, reason: probed.reason };
}

function verdict(status: EmailStatus, reason: string): EmailVerdict {
  return {
    status,
    reason,
    freeProvider: false,
    role: false,
    disposable: false,
    suggestion: null,
    mxHosts: [],
  };
}
