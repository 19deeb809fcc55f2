/**
 * A seeded generator of realistic B2B leads with KNOWN duplicate clusters, for measuring dedup quality.
 *
 * People work at companies of very uneven size (a few large employers, a long tail), names are drawn
 * with a skew so common names recur (two different "John Smith"s exist, as in real lists), and some
 * distinct people are deliberately hard to tell apart: namesakes at other companies, same-surname
 * colleagues with the same initial. About a quarter of the rows belong to clusters of 2–4 records of
 * one person, each copy changed by 1–3 of: a typo in a name, a nickname, first/last swapped, case and
 * accent changes, the company's legal suffix changed, a personal instead of a work email, another phone
 * format, another title wording, missing fields, only a full name.
 *
 * Each record is produced as raw strings (what a CSV row holds) and then run through the real phase-2
 * standardization (services/standardize/phase.ts `standardizeFields`): names, emails, phones, company
 * keys, titles and domains are exactly what the pipeline would hand to dedupe.
 */
import type { EnrichedLead, StandardizedFields } from '../../schemas/generated.ts';
import { nicknamesOf } from '../../services/dedupe/nicknames.ts';
import { isFreeEmailDomain } from '../../services/lib/free-email-providers.ts';
import { standardizeFields } from '../../services/standardize/phase.ts';

export interface DedupDataset {
  leads: EnrichedLead[];
  /** lead_id -> id of the person it describes: the ground truth. */
  entityOf: Map<string, number>;
}

export interface DatasetOptions {
  seed: number;
  leads: number;
  /** Share of rows that belong to a duplicate cluster. */
  duplicateShare: number;
  batchId: string;
  accountId: string;
}

export const DEFAULT_DATASET: DatasetOptions = {
  seed: 2,
  leads: 20_000,
  duplicateShare: 0.25,
  batchId: 'batch_bench',
  accountId: 'acct_bench',
};

/** mulberry32: small, fast, good enough for test data, and the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Christopher',
  'Nancy',
  'Daniel',
  'Margaret',
  'Matthew',
  'Lisa',
  'Anthony',
  'Betty',
  'Mark',
  'Sandra',
  'Donald',
  'Ashley',
  'Steven',
  'Kimberly',
  'Paul',
  'Emily',
  'Andrew',
  'Donna',
  'Joshua',
  'Michelle',
  'Kenneth',
  'Carol',
  'Kevin',
  'Amanda',
  'Brian',
  'Melissa',
  'George',
  'Deborah',
  'Timothy',
  'Stephanie',
  'Ronald',
  'Rebecca',
  'Edward',
  'Laura',
  'Jason',
  'Sharon',
  'Jeffrey',
  'Cynthia',
  'Ryan',
  'Kathleen',
  'Jacob',
  'Amy',
  'Gary',
  'Angela',
  'Nicholas',
  'Shirley',
  'Eric',
  'Anna',
  'Jonathan',
  'Brenda',
  'Stephen',
  'Pamela',
  'Larry',
  'Emma',
  'Justin',
  'Nicole',
  'Scott',
  'Helen',
  'Brandon',
  'Samantha',
  'Benjamin',
  'Katherine',
  'Samuel',
  'Christine',
  'Gregory',
  'Debra',
  'Alexander',
  'Rachel',
  'Frank',
  'Carolyn',
  'Patrick',
  'Janet',
  'Raymond',
  'Catherine',
  'Jack',
  'Maria',
  'Dennis',
  'Heather',
  'Jerry',
  'Diane',
  'Tyler',
  'Olivia',
  'Aaron',
  'Julie',
  'Jose',
  'Joyce',
  'Adam',
  'Victoria',
  'Nathan',
  'Kelly',
  'Henry',
  'Christina',
  'Zachary',
  'Lauren',
  'Douglas',
  'Joan',
  'Peter',
  'Evelyn',
  'Kyle',
  'Judith',
  'José',
  'Zoë',
  'François',
  'Renée',
  'Björn',
  'Jürgen',
  'Søren',
  'Łukasz',
  'Chloé',
  'Inés',
  'Mañuel',
  'Hélène',
  'Ana',
  'Wei',
  'Priya',
  'Arjun',
  'Yuki',
  'Hiroshi',
  'Fatima',
  'Omar',
  'Ingrid',
  'Lars',
  'Aoife',
  'Siobhan',
  'Mateo',
  'Lucía',
  'Giulia',
  'Marco',
  'Sven',
  'Astrid',
  'Kwame',
  'Amara',
  'Dmitri',
];

const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Gomez',
  'Phillips',
  'Evans',
  'Turner',
  'Diaz',
  'Parker',
  'Cruz',
  'Edwards',
  'Collins',
  'Reyes',
  'Stewart',
  'Morris',
  'Morales',
  'Murphy',
  'Cook',
  'Rogers',
  'Gutierrez',
  'Ortiz',
  'Morgan',
  'Cooper',
  'Peterson',
  'Bailey',
  'Reed',
  'Kelly',
  'Howard',
  'Ramos',
  'Kim',
  'Cox',
  'Ward',
  'Richardson',
  'Watson',
  'Brooks',
  'Chavez',
  'Wood',
  'James',
  'Bennett',
  'Gray',
  'Mendoza',
  'Ruiz',
  'Hughes',
  'Price',
  'Alvarez',
  'Castillo',
  'Sanders',
  'Patel',
  'Myers',
  'Long',
  'Ross',
  'Foster',
  'Jimenez',
  'Powell',
  'Jenkins',
  'Perry',
  'Russell',
  'Sullivan',
  'Bell',
  'Coleman',
  'Butler',
  'Henderson',
  'Barnes',
  'Gonzales',
  'Fisher',
  'Vasquez',
  'Simmons',
  'Romero',
  'Jordan',
  'Patterson',
  'Alexander',
  'Hamilton',
  'Graham',
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schulz',
  'Hoffmann',
  'García',
  'Núñez',
  'Peña',
  'Dubois',
  'Lefèvre',
  'Moreau',
  'Girard',
  'Østergaard',
  'Nowak',
  'Kowalski',
  'Wiśniewski',
  "O'Brien",
  "O'Connor",
  'McDonald',
  'MacLeod',
  'Rossi',
  'Russo',
  'Bianchi',
  'Romano',
  'Tanaka',
  'Suzuki',
  'Watanabe',
  'Sato',
  'Chen',
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Singh',
  'Kumar',
  'Shah',
  'Gupta',
  'Okafor',
  'Mensah',
  'Haddad',
  'Nakamura',
  'Johansson',
  'Lindqvist',
  'Andersen',
  'Van der Berg',
  'De Vries',
  'Jansen',
  'Novak',
  'Horvat',
  'Ivanov',
  'Petrov',
  'Kovács',
  'Papadopoulos',
  'Yilmaz',
];

const WORDS_A = [
  'Blue',
  'Bright',
  'Nimbus',
  'Vertex',
  'Summit',
  'Apex',
  'Quantum',
  'Silver',
  'Northern',
  'Granite',
  'Harbor',
  'Pioneer',
  'Crimson',
  'Atlas',
  'Nova',
  'Evergreen',
  'Falcon',
  'Iron',
  'Orbit',
  'Pacific',
  'Redwood',
  'Sterling',
  'Titan',
  'Vector',
  'Zenith',
  'Cobalt',
  'Horizon',
  'Lumen',
  'Maple',
  'Onyx',
  'Polar',
  'Prairie',
  'Riverbend',
  'Sapphire',
  'Solstice',
  'Tidal',
  'Union',
  'Velocity',
  'Willow',
  'Acme',
];
const WORDS_B = [
  'Analytics',
  'Systems',
  'Software',
  'Labs',
  'Logistics',
  'Health',
  'Capital',
  'Dynamics',
  'Networks',
  'Solutions',
  'Robotics',
  'Media',
  'Energy',
  'Foods',
  'Partners',
  'Technologies',
  'Data',
  'Cloud',
  'Security',
  'Bio',
  'Works',
  'Consulting',
  'Manufacturing',
  'Payments',
  'Retail',
  'Studios',
  'Ventures',
];
const SUFFIXES = [
  'Inc',
  'Inc.',
  'LLC',
  'Ltd',
  'Corp',
  'Corporation',
  'GmbH',
  'Co.',
  'S.A.',
  'PLC',
  'Limited',
];
const TLDS = ['com', 'com', 'com', 'io', 'co', 'net', 'co.uk', 'de', 'fr'];
const COUNTRY_OF_TLD: Record<string, string> = { 'co.uk': 'GB', de: 'DE', fr: 'FR' };
const INDUSTRIES = [
  'Software',
  'Financial Services',
  'Healthcare',
  'Manufacturing',
  'Retail',
  'Logistics',
  'Media',
];
const FREE_MAIL = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'proton.me'];
const TITLES: [string, string][] = [
  ['VP Sales', 'Vice President of Sales'],
  ['VP of Marketing', 'Vice President, Marketing'],
  ['CTO', 'Chief Technology Officer'],
  ['CFO', 'Chief Financial Officer'],
  ['Head of Growth', 'Growth Lead'],
  ['Sr. Software Engineer', 'Senior Software Engineer'],
  ['Marketing Mgr', 'Marketing Manager'],
  ['Dir. of Engineering', 'Director of Engineering'],
  ['Account Executive', 'Acct Executive'],
  ['HR Business Partner', 'Human Resources Business Partner'],
  ['Product Manager', 'Product Mgr'],
  ['Operations Director', 'Director of Operations'],
  ['Sales Development Rep', 'SDR'],
  ['CEO', 'Chief Executive Officer'],
  ['Data Analyst', 'Data Analyst'],
];
const AREA = ['212', '415', '646', '312', '617', '206', '512', '303', '404', '213'];

interface Company {
  name: string;
  base: string;
  suffix: string;
  domain: string;
  country: string;
  industry: string;
  employees: number;
}

interface Person {
  entity: number;
  first: string;
  last: string;
  company: Company;
  title: number;
  phoneDigits: string;
  linkedin: string | null;
  email: string;
}

/** A raw row as an upload would carry it. */
interface RawRow {
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  company: string | null;
  website: string | null;
  phone: string | null;
  title: string | null;
  linkedin_url: string | null;
  country: string | null;
}

class Gen {
  /** Every address handed out -> the person who owns it: one mailbox never belongs to two people. */
  readonly owners = new Map<string, number>();
  constructor(readonly next: () => number) {}
  /** The address for this person, or null when someone else already owns it. */
  claim(email: string, entity: number): string | null {
    const owner = this.owners.get(email);
    if (owner !== undefined && owner !== entity) return null;
    this.owners.set(email, entity);
    return email;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
  /** Zipf-like skew: low indices (common names, big companies) are drawn far more often. */
  skewed<T>(list: readonly T[], power = 2.2): T {
    return list[Math.floor(this.next() ** power * list.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function slug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/** Draws in a row that may hit taken names before the word pairs count as used up (numbered names follow). */
const NAME_TRIES = 1_000;

function makeCompanies(g: Gen, count: number): Company[] {
  const seen = new Set<string>();
  const out: Company[] = [];
  let misses = 0;
  while (out.length < count) {
    let base = g.chance(0.3)
      ? `${g.pick(WORDS_A)}${g.pick(WORDS_A).toLowerCase()}`
      : `${g.pick(WORDS_A)} ${g.pick(WORDS_B)}`;
    // Large lists (over ~30,000 leads) need more companies than there are word pairs: number them.
    if (seen.has(base) && misses >= NAME_TRIES) base = `${base} ${out.length}`;
    if (seen.has(base)) {
      misses++;
      continue;
    }
    misses = 0;
    seen.add(base);
    const tld = g.pick(TLDS);
    const suffix = g.pick(SUFFIXES);
    out.push({
      name: `${base} ${suffix}`,
      base,
      suffix,
      domain: `${slug(base)}.${tld}`,
      country: COUNTRY_OF_TLD[tld] ?? 'US',
      industry: g.pick(INDUSTRIES),
      employees: Math.round(10 + g.next() ** 3 * 20_000),
    });
  }
  return out;
}

function makePerson(g: Gen, entity: number, companies: Company[]): Person {
  return {
    entity,
    first: g.skewed(FIRST, 1.8),
    last: g.skewed(LAST, 1.8),
    company: g.skewed(companies, 1.5),
    title: g.int(TITLES.length),
    phoneDigits: `${g.pick(AREA)}${200 + g.int(800)}${String(g.int(10_000)).padStart(4, '0')}`,
    linkedin: null,
    email: '',
  };
}

/** The company's address pattern; a taken address gets a digit, as mail admins do. */
function workEmail(g: Gen, p: Person): string {
  const f = slug(p.first);
  const l = slug(p.last);
  const local = g.pick([`${f}.${l}`, `${f[0]}${l}`, f, `${f}${l[0]}`]);
  let email = g.claim(`${local}@${p.company.domain}`, p.entity);
  for (let n = 2; email === null; n++) email = g.claim(`${local}${n}@${p.company.domain}`, p.entity);
  return email;
}

function personalEmail(g: Gen, p: Person): string {
  const f = slug(p.first);
  const l = slug(p.last);
  const local = g.pick([`${f}.${l}`, `${f}${l}${g.int(100)}`, `${f[0]}${l}${g.int(1000)}`, `${f}_${l}`]);
  return g.claim(`${local}@${g.pick(FREE_MAIL)}`, p.entity) ?? p.email;
}

function formatPhone(g: Gen, digits: string, country: string): string {
  const a = digits.slice(0, 3);
  const b = digits.slice(3, 6);
  const c = digits.slice(6);
  if (country !== 'US') return `+1 ${a} ${b} ${c}`;
  return g.pick([
    `(${a}) ${b}-${c}`,
    `${a}.${b}.${c}`,
    `+1 ${a}-${b}-${c}`,
    `${a}${b}${c}`,
    `1-${a}-${b}-${c}`,
  ]);
}

function baseRow(g: Gen, p: Person): RawRow {
  return {
    first_name: p.first,
    last_name: p.last,
    full_name: null,
    email: p.email,
    company: p.company.name,
    website: g.chance(0.5) ? `https://www.${p.company.domain}/` : null,
    phone: g.chance(0.7) ? formatPhone(g, p.phoneDigits, p.company.country) : null,
    title: TITLES[p.title]?.[0] ?? null,
    linkedin_url: p.linkedin,
    country: g.chance(0.8) ? p.company.country : null,
  };
}

function typo(g: Gen, s: string): string {
  if (s.length < 4) return s;
  const i = 1 + g.int(s.length - 2);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  switch (g.int(4)) {
    case 0:
      return s.slice(0, i) + s.slice(i + 1);
    case 1:
      return s.slice(0, i) + g.pick([...letters]) + s.slice(i + 1);
    case 2:
      return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
    default:
      return s.slice(0, i) + g.pick([...letters]) + s.slice(i);
  }
}

function titleCase(s: string): string {
  return s.replace(/\b\p{L}/gu, (c) => c.toUpperCase());
}

/** One perturbation of a duplicate's raw row. */
const PERTURBATIONS: Array<(g: Gen, row: RawRow, p: Person) => void> = [
  (g, row) => {
    if (g.chance(0.5) && row.last_name) row.last_name = typo(g, row.last_name);
    else if (row.first_name) row.first_name = typo(g, row.first_name);
  },
  (g, row, p) => {
    const nicks = nicknamesOf(slug(p.first)).filter((n) => n.length > 1);
    if (nicks.length) row.first_name = titleCase(g.pick(nicks));
  },
  (_g, row) => {
    [row.first_name, row.last_name] = [row.last_name, row.first_name];
  },
  (g, row) => {
    const change = g.pick([
      (s: string) => s.toUpperCase(),
      (s: string) => s.toLowerCase(),
      (s: string) => s.normalize('NFKD').replace(/\p{M}+/gu, ''),
    ]);
    if (row.first_name) row.first_name = change(row.first_name);
    if (row.last_name) row.last_name = change(row.last_name);
  },
  (g, row, p) => {
    row.company = g.pick([
      p.company.base,
      `${p.company.base}, ${g.pick(SUFFIXES)}`,
      `${p.company.base.toUpperCase()} ${g.pick(SUFFIXES)}`,
      `The ${p.company.base} ${g.pick(SUFFIXES)}`,
    ]);
  },
  (g, row, p) => {
    row.email = personalEmail(g, p);
  },
  (g, row, p) => {
    // Another alias at the same company (jsmith@ instead of john.smith@), or no email at all.
    const f = slug(p.first);
    const l = slug(p.last);
    const alias = `${g.pick([`${f}.${l}`, `${f[0]}${l}`, `${f}${l[0]}`, `${f[0]}.${l}`])}@${p.company.domain}`;
    row.email = g.chance(0.7) ? (g.claim(alias, p.entity) ?? p.email) : null;
  },
  (g, row, p) => {
    row.phone = g.chance(0.7) ? formatPhone(g, p.phoneDigits, p.company.country) : null;
  },
  (_g, row, p) => {
    row.title = TITLES[p.title]?.[1] ?? row.title;
  },
  (g, row) => {
    const fields = ['title', 'phone', 'company', 'website', 'country', 'linkedin_url'] as const;
    for (const f of fields) if (g.chance(0.4)) row[f] = null;
  },
  (_g, row) => {
    if (!row.first_name && !row.last_name) return; // already only a full name
    row.full_name = [row.first_name, row.last_name].filter(Boolean).join(' ');
    row.first_name = null;
    row.last_name = null;
  },
];

/** The raw row through the real phase-2 standardization, as the pipeline would see it. */
function standardizeRaw(row: RawRow): StandardizedFields {
  return standardizeFields({
    account_id: 'acct_bench',
    batch_id: null,
    row_index: null,
    source: 'csv',
    received_at: 0,
    city: null,
    industry: null,
    employees: null,
    extras: {},
    ...row,
  });
}

export interface LeadParts {
  lead_id: string;
  batch_id?: string;
  account_id?: string;
  row_index?: number;
  lead?: Partial<StandardizedFields>;
  verification?: Partial<EnrichedLead['verification']>;
  enrichment?: Partial<EnrichedLead['enrichment']>;
}

/** A complete EnrichedLead from the parts a test cares about; every other field empty. */
export function enrichedLead(parts: LeadParts): EnrichedLead {
  const lead: StandardizedFields = {
    email: null,
    email_display: null,
    first_name: null,
    last_name: null,
    full_name: null,
    honorific: null,
    name_suffix: null,
    title_raw: null,
    title_normalized: null,
    seniority: 'Unknown',
    department: 'Other',
    company_name: null,
    company_key: null,
    domain: null,
    website: null,
    country: null,
    phone_e164: null,
    phone_raw: null,
    linkedin_url: null,
    city: null,
    industry: null,
    employees: null,
    extras: {},
    ...parts.lead,
  };
  const batchId = parts.batch_id ?? 'batch_test';
  return {
    meta: {
      lead_id: parts.lead_id,
      account_id: parts.account_id ?? 'acct_test',
      batch_id: batchId,
      row_index: parts.row_index ?? 0,
      source: 'csv',
      received_at: 1_770_000_000_000,
    },
    lead,
    verification: {
      email_status: lead.email ? 'deliverable' : 'missing',
      email_reason: '',
      email_free_provider: false,
      email_role: false,
      email_disposable: false,
      email_suggestion: null,
      mx_hosts: [],
      phone_status: lead.phone_e164 ? 'mobile_valid' : 'missing',
      phone_line_type: null,
      ...parts.verification,
    },
    enrichment: {
      company_name: null,
      industry: null,
      employee_count: null,
      country: null,
      signals: [],
      technologies: [],
      person_title: null,
      person_linkedin: null,
      field_sources: {},
      confidence: 0,
      multi_source: false,
      cache_level: 'none',
      ...parts.enrichment,
    },
  };
}

function toLead(g: Gen, row: RawRow, p: Person, opts: DatasetOptions, rowIndex: number): EnrichedLead {
  const lead = standardizeRaw(row);
  return enrichedLead({
    lead_id: `${opts.batchId}:${rowIndex}`,
    account_id: opts.accountId,
    batch_id: opts.batchId,
    row_index: rowIndex,
    lead,
    verification: {
      email_status: lead.email
        ? g.pick(['verified_deliverable', 'deliverable', 'deliverable', 'accept_all', 'unknown'])
        : 'missing',
      email_free_provider: isFreeEmailDomain(lead.email?.split('@')[1] ?? ''),
      phone_status: lead.phone_e164 ? g.pick(['mobile_valid', 'landline_valid', 'mobile_active']) : 'missing',
    },
    enrichment: {
      company_name: p.company.name,
      industry: p.company.industry,
      employee_count: p.company.employees,
      country: p.company.country,
      confidence: 0.9,
    },
  });
}

/**
 * Builds the dataset. Cluster sizes are uniform over 2–4 (mean 3), so `leads * duplicateShare / 3`
 * people get clusters; the rest of the rows are distinct people, of whom ~3% are namesakes of another
 * person at another company and ~2% same-surname colleagues (same initial) of another person.
 */
export function generateDedupDataset(options: Partial<DatasetOptions> = {}): DedupDataset {
  const opts = { ...DEFAULT_DATASET, ...options };
  const g = new Gen(rng(opts.seed));
  const companies = makeCompanies(g, Math.max(50, Math.round(opts.leads / 8)));
  const clusterCount = Math.round((opts.leads * opts.duplicateShare) / 3);
  const rows: Array<{ row: RawRow; person: Person }> = [];
  const people: Person[] = [];
  let entity = 0;

  while (rows.length < opts.leads) {
    const p = makePerson(g, entity++, companies);
    const twin = people.length > 0 && g.chance(0.05) ? g.pick(people) : null;
    if (twin && g.chance(0.6)) {
      p.first = twin.first;
      p.last = twin.last;
    } else if (twin) {
      p.company = twin.company;
      p.last = twin.last;
      p.first = g.pick(FIRST.filter((f) => f[0] === twin.first[0] && f !== twin.first)) ?? p.first;
    }
    p.email = workEmail(g, p);
    if (g.chance(0.4))
      p.linkedin = `https://www.linkedin.com/in/${slug(p.first)}-${slug(p.last)}-${g.int(1e6).toString(16)}`;
    people.push(p);
    const copies = entity <= clusterCount ? 2 + g.int(3) : 1;
    rows.push({ row: baseRow(g, p), person: p });
    for (let c = 1; c < copies && rows.length < opts.leads; c++) {
      const row = baseRow(g, p);
      const changes = 1 + g.int(3);
      for (let k = 0; k < changes; k++) g.pick(PERTURBATIONS)(g, row, p);
      rows.push({ row, person: p });
    }
  }

  // Shuffle so cluster members are spread over the file, as in a real export.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [rows[i], rows[j]] = [rows[j] as (typeof rows)[number], rows[i] as (typeof rows)[number]];
  }
  const entityOf = new Map<string, number>();
  const leads = rows.map(({ row, person }, index) => {
    const lead = toLead(g, row, person, opts, index);
    entityOf.set(lead.meta.lead_id, person.entity);
    return lead;
  });
  return { leads, entityOf };
}
