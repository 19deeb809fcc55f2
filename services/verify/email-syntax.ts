import { domainToASCII } from 'node:url';

/**
 * The address syntax policy (README.md, "Syntax"): the practical subset of RFC 5321/5322 that real
 * mailboxes use.
 * - local part: dot-atom (RFC 5322 atext, dots neither first, last nor doubled); UTF-8 letters, marks
 *   and digits are allowed too (RFC 6531 internationalized local parts); quoted strings, comments and
 *   obsolete forms are refused — no mailbox provider hands them out and many MTAs reject them;
 * - domain: host names only (no IP literals), at least two labels, LDH labels of 1–63 octets without a
 *   leading or trailing hyphen, a non-numeric TLD; Unicode domains are converted to punycode (IDNA);
 * - lengths: local part ≤ 64 octets, domain ≤ 253 octets, whole address ≤ 254 octets (RFC 5321 §4.5.3.1
 *   path limit minus the angle brackets), counted in UTF-8 octets.
 */
export type ParsedAddress = {
  local: string;
  /** ASCII (punycode) form, lower-cased: what DNS and SMTP use. */
  domain: string;
  /** The local part has non-ASCII characters: an SMTP probe needs the server's SMTPUTF8. */
  utf8Local: boolean;
};

export type SyntaxVerdict = { ok: true; address: ParsedAddress } | { ok: false; reason: string };

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_ADDRESS = 254;
const MAX_LABEL = 63;

// RFC 5322 atext, plus (RFC 6531) any Unicode letter, mark or number.
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\p{L}\p{M}\p{N}]+$/u;
const NON_ASCII = /[^\p{ASCII}]/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC = /^[0-9]+$/;

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

export function checkSyntax(input: string): SyntaxVerdict {
  const at = input.lastIndexOf('@');
  if (at < 0) return fail('no @ sign');
  const local = input.slice(0, at);
  const rawDomain = input.slice(at + 1);
  if (local === '') return fail('empty local part');
  if (rawDomain === '') return fail('empty domain');

  const localProblem = checkLocalPart(local);
  if (localProblem) return fail(localProblem);

  const domain = toAsciiDomain(rawDomain);
  if (domain === null) return fail(`domain "${rawDomain}" is not a valid host name`);
  const domainProblem = checkDomain(domain);
  if (domainProblem) return fail(domainProblem);

  if (octets(local) + 1 + domain.length > MAX_ADDRESS)
    return fail(`address longer than ${MAX_ADDRESS} octets`);
  return { ok: true, address: { local, domain, utf8Local: NON_ASCII.test(local) } };
}

function checkLocalPart(local: string): string | null {
  if (local.startsWith('"')) return 'quoted local parts are not accepted';
  if (octets(local) > MAX_LOCAL) return `local part longer than ${MAX_LOCAL} octets`;
  if (local.startsWith('.') || local.endsWith('.')) return 'local part starts or ends with a dot';
  if (local.includes('..')) return 'local part has consecutive dots';
  for (const atom of local.split('.')) {
    if (!ATOM.test(atom)) return `local part has a character outside the dot-atom set: "${local}"`;
  }
  return null;
}

/** Unicode → punycode; null for anything IDNA refuses (spaces, brackets, IP literals, ...). */
function toAsciiDomain(raw: string): string | null {
  if (raw.startsWith('[')) return null;
  if (!NON_ASCII.test(raw)) return raw.toLowerCase();
  const ascii = domainToASCII(raw);
  return ascii === '' ? null : ascii.toLowerCase();
}

function checkDomain(domain: string): string | null {
  if (domain.length > MAX_DOMAIN) return `domain longer than ${MAX_DOMAIN} octets`;
  const labels = domain.split('.');
  if (labels.length < 2) return 'domain has no dot (a bare host name cannot receive Internet mail)';
  for (const label of labels) {
    if (label === '') return 'domain has an empty label';
    if (label.length > MAX_LABEL) return `domain label longer than ${MAX_LABEL} octets`;
    if (!LABEL.test(label)) return `domain label "${label}" is not letters, digits and inner hyphens`;
    if (label.startsWith('xn--') && domainToASCII(label) === '') return `invalid punycode label "${label}"`;
  }
  const tld = labels[labels.length - 1] as string;
  if (NUMERIC.test(tld)) return 'top-level domain is numeric (IP addresses are not accepted)';
  return null;
}

function fail(reason: string): SyntaxVerdict {
  return { ok: false, reason };
}
