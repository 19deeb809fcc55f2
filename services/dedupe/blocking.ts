import type { Prepared } from './compare.ts';
import { formalNames } from './nicknames.ts';

/**
 * Candidate blocking keys: two records are compared only when they share one. Each family covers
 * perturbations the others miss:
 * - `e:` exact email — the same address, whatever else changed;
 * - `p:` E.164 phone, `l:` LinkedIn handle — every textual field changed;
 * - `d:` registrable domain + double-metaphone of the last name — email or company name changed;
 * - `c:` organisation + first initial + metaphone of the last name — work vs personal email. The first
 *   initial is also taken from the formal names of a nickname, so Bob and Robert meet;
 * - `n:` organisation + formal first name + last initial — a typo changed the last name's metaphone.
 * The organisation is the company matching key and also the domain's first label (acme.com → "acme"),
 * so a row with only a company meets a row with only a work domain. Name keys are built in both
 * orientations, so a row with first and last swapped meets the original.
 */
export function blockingKeys(p: Prepared): string[] {
  const r = p.rec;
  const keys = new Set<string>();
  if (r.email) keys.add(`e:${r.email}`);
  if (r.phone) keys.add(`p:${r.phone}`);
  if (r.linkedin) keys.add(`l:${r.linkedin}`);
  const orgs = new Set<string>();
  if (r.company) orgs.add(r.company);
  if (r.domain) orgs.add(r.domain.split('.')[0] as string);
  const orientations: Array<[string, [string, string]]> = [
    [p.given, p.lastCodes],
    [r.last, p.firstCodes],
  ];
  const lastNames = [r.last, p.firstJoined];
  orientations.forEach(([first, lastCodes], o) => {
    const last = lastNames[o] as string;
    const codes = uniqueCodes(lastCodes);
    if (r.domain) for (const code of codes) keys.add(`d:${r.domain}:${code}`);
    if (!first) return;
    const formal = formalNames(first);
    const initials = new Set(formal.map((n) => n[0]));
    for (const org of orgs) {
      for (const initial of initials) for (const code of codes) keys.add(`c:${org}:${initial}:${code}`);
      if (last) for (const name of formal) keys.add(`n:${org}:${name}:${last[0]}`);
    }
  });
  return [...keys];
}

function uniqueCodes(codes: [string, string]): string[] {
  if (!codes[0]) return [];
  return codes[1] && codes[1] !== codes[0] ? [codes[0], codes[1]] : [codes[0]];
}
