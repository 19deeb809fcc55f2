import type { EnrichedLead, StandardizedFields } from '../../schemas/generated.ts';

/** Groups record indices linked by an edge; each group sorted ascending, groups by their first index. */
export function connectedGroups(size: number, links: Iterable<readonly [number, number]>): number[][] {
  const parent = Array.from({ length: size }, (_, i) => i);
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[x] !== root) {
      const next = parent[x] as number;
      parent[x] = root;
      x = next;
    }
    return root;
  };
  for (const [a, b] of links) {
    const ra = find(a);
    const rb = find(b);
    // The smaller index becomes the root, so the result never depends on the order of the links.
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < size; i++) {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  }
  return [...groups.values()];
}

const UNUSABLE_EMAIL = new Set(['invalid_syntax', 'invalid_domain', 'undeliverable', 'missing']);
const UNUSABLE_PHONE = new Set(['invalid', 'disconnected', 'missing']);

export function hasUsableEmail(lead: EnrichedLead): boolean {
  return !!lead.lead.email && !UNUSABLE_EMAIL.has(lead.verification.email_status);
}

export function hasUsablePhone(lead: EnrichedLead): boolean {
  return !!lead.lead.phone_e164 && !UNUSABLE_PHONE.has(lead.verification.phone_status);
}

const FIELD_POINTS: [keyof StandardizedFields, number][] = [
  ['first_name', 1],
  ['last_name', 1],
  ['title_normalized', 1],
  ['company_name', 1],
  ['domain', 1],
  ['linkedin_url', 1],
  ['country', 0.5],
  ['city', 0.5],
  ['industry', 0.5],
  ['employees', 0.5],
];

/**
 * How complete a record is, for picking a cluster's survivor: a usable email counts most (4, plus 1 when
 * verified or deliverable), then a usable phone (2), then one point per name part, title, company,
 * domain, LinkedIn, and half a point for country, city, industry, employees. An undeliverable email or
 * a disconnected phone counts as absent: a survivor must carry the contact data that works.
 */
export function completeness(lead: EnrichedLead): number {
  let score = 0;
  if (hasUsableEmail(lead)) {
    score += 4;
    if (['verified_deliverable', 'deliverable'].includes(lead.verification.email_status)) score += 1;
  }
  if (hasUsablePhone(lead)) score += 2;
  for (const [field, points] of FIELD_POINTS) if (lead.lead[field]) score += points;
  return score;
}

type Lead = EnrichedLead;
interface FillGroup {
  name: string;
  missing: (lead: Lead) => boolean;
  take: (survivor: Lead, donor: Lead) => void;
}

function copyFields<T extends object>(to: T, from: T, keys: (keyof T)[]): void {
  for (const k of keys) to[k] = from[k];
}

/**
 * What a survivor can take from a duplicate. Fields that belong together move together (an email with
 * its verification verdict, a phone with its line type, a title with its seniority and department).
 */
const FILL_GROUPS: FillGroup[] = [
  {
    name: 'email',
    missing: (l) => !hasUsableEmail(l),
    take: (s, d) => {
      copyFields(s.lead, d.lead, ['email', 'email_display']);
      copyFields(s.verification, d.verification, [
        'email_status',
        'email_reason',
        'email_free_provider',
        'email_role',
        'email_disposable',
        'email_suggestion',
        'mx_hosts',
      ]);
    },
  },
  {
    name: 'phone',
    missing: (l) => !hasUsablePhone(l),
    take: (s, d) => {
      copyFields(s.lead, d.lead, ['phone_e164', 'phone_raw']);
      copyFields(s.verification, d.verification, ['phone_status', 'phone_line_type']);
    },
  },
  {
    name: 'title',
    missing: (l) => !l.lead.title_normalized && !l.lead.title_raw,
    take: (s, d) => copyFields(s.lead, d.lead, ['title_raw', 'title_normalized', 'seniority', 'department']),
  },
  {
    name: 'company',
    missing: (l) => !l.lead.company_name,
    take: (s, d) => copyFields(s.lead, d.lead, ['company_name', 'company_key']),
  },
  ...(
    [
      'first_name',
      'last_name',
      'full_name',
      'domain',
      'website',
      'country',
      'linkedin_url',
      'city',
      'industry',
      'employees',
    ] as const
  ).map(
    (field): FillGroup => ({
      name: field,
      missing: (l) => !l.lead[field],
      take: (s, d) => copyFields(s.lead, d.lead, [field]),
    }),
  ),
  ...(
    ['company_name', 'industry', 'employee_count', 'country', 'person_title', 'person_linkedin'] as const
  ).map(
    (field): FillGroup => ({
      name: `enrichment.${field}`,
      missing: (l) => l.enrichment[field] === null,
      take: (s, d) => {
        copyFields(s.enrichment, d.enrichment, [field]);
        s.enrichment.field_sources = { ...s.enrichment.field_sources };
        const source = d.enrichment.field_sources[field];
        if (source) s.enrichment.field_sources[field] = source;
      },
    }),
  ),
  ...(['signals', 'technologies'] as const).map(
    (field): FillGroup => ({
      name: `enrichment.${field}`,
      missing: (l) => l.enrichment[field].length === 0,
      take: (s, d) => copyFields(s.enrichment, d.enrichment, [field]),
    }),
  ),
];

/**
 * The survivor with every gap filled from the first donor (in the given order) that has the field.
 * Returns a copy; `filledFrom` maps each filled group to the donor's lead_id.
 */
export function fillFromDuplicates(
  survivor: Lead,
  donors: Lead[],
): { lead: Lead; filledFrom: Record<string, string> } {
  const lead: Lead = {
    meta: survivor.meta,
    lead: { ...survivor.lead },
    verification: { ...survivor.verification },
    enrichment: { ...survivor.enrichment },
  };
  const filledFrom: Record<string, string> = {};
  if (donors.length === 0) return { lead, filledFrom };
  for (const group of FILL_GROUPS) {
    if (!group.missing(lead)) continue;
    const donor = donors.find((d) => !group.missing(d));
    if (!donor) continue;
    group.take(lead, donor);
    filledFrom[group.name] = donor.meta.lead_id;
  }
  return { lead, filledFrom };
}
