import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rng } from './dedup-dataset.ts';

/**
 * Deterministic generator of realistic, messy B2B lead exports: the same options always give the same
 * bytes. People from fourteen countries with their own names, phone formats, company legal forms,
 * domains and city names; the inconsistencies real CRM exports have (casing, padding, mailto:, free-mail
 * and role addresses, typos, formula-like cells, quoted notes with delimiters and line breaks); and a
 * small share of broken rows (short or long rows, stray quotes, no email, blank lines).
 */
export interface LeadGenOptions {
  rows: number;
  seed?: number;
  delimiter?: ',' | ';' | '\t' | '|';
  /** Share of rows that are broken on purpose (default 0.03). */
  brokenRate?: number;
}

export const LEAD_COLUMNS = [
  'Email',
  'First Name',
  'Last Name',
  'Job Title',
  'Company',
  'Website',
  'Phone',
  'Country',
  'City',
  'LinkedIn URL',
  'Industry',
  'Employees',
  'Lead Source',
  'Notes',
] as const;

export interface GeneratedLead {
  cells: string[];
  /** Why the row is broken on purpose, or null. */
  broken: BrokenKind | null;
  /** The row is preceded by a blank line (not a data row). */
  blankBefore: boolean;
}

export type BrokenKind = 'short_row' | 'long_row' | 'stray_quote' | 'no_email' | 'garbage_email';

interface Country {
  names: [string[], string[]];
  labels: string[];
  cities: string[];
  tld: string;
  suffixes: string[];
  phone: (d: () => string, pick: <T>(xs: T[]) => T) => string;
}

const COUNTRIES: Country[] = [
  {
    names: [
      [
        'James',
        'Mary',
        'Robert',
        'Patricia',
        'Michael',
        'Jennifer',
        'Sarah',
        'Christopher',
        'Ashley',
        'DeShawn',
      ],
      [
        'Smith',
        'Johnson',
        'Williams',
        'Brown',
        'Miller',
        'Davis',
        'Rodriguez',
        'McDonald',
        "O'Brien",
        'Nguyen',
      ],
    ],
    labels: ['United States', 'USA', 'US', 'U.S.A.', 'united states of america'],
    cities: ['New York', 'San Francisco', 'Austin', 'Boston', 'Chicago', 'Seattle'],
    tld: 'com',
    suffixes: ['Inc.', 'Inc', 'LLC', 'Corp.', 'Corporation', 'L.L.C.'],
    phone: (d, pick) => {
      const area = pick(['202', '212', '415', '512', '617', '312', '206']);
      const ex = `${pick(['2', '3', '4', '5', '6', '7', '8', '9'])}${d()}${d()}`;
      const line = `${d()}${d()}${d()}${d()}`;
      return pick([
        `+1 ${area} ${ex} ${line}`,
        `(${area}) ${ex}-${line}`,
        `${area}.${ex}.${line}`,
        `+1-${area}-${ex}-${line}`,
        `${area}-${ex}-${line} x${d()}${d()}${d()}`,
        `1${area}${ex}${line}`,
      ]);
    },
  },
  {
    names: [
      ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Emily', 'Siobhan'],
      ['Taylor', 'Evans', 'Thomas', 'Roberts', "O'Connor", 'Fitzgerald', 'Hughes'],
    ],
    labels: ['United Kingdom', 'UK', 'GB', 'England', 'Great Britain'],
    cities: ['London', 'Manchester', 'Edinburgh', 'Bristol', 'Leeds'],
    tld: 'co.uk',
    suffixes: ['Ltd', 'Ltd.', 'Limited', 'PLC', 'LLP'],
    phone: (d, pick) => {
      const rest = `${d()}${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`;
      return pick([
        `+44 20 ${rest}`,
        `020 ${rest}`,
        `07700 9${d()}${d()}${d()}${d()}${d()}`,
        `+44 (0)20 ${rest}`,
      ]);
    },
  },
  {
    names: [
      ['Lukas', 'Anna', 'Maximilian', 'Sophie', 'Jürgen', 'Käthe', 'Hans-Peter'],
      ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weiß', 'von Bülow', 'Groß'],
    ],
    labels: ['Germany', 'Deutschland', 'DE', 'GER'],
    cities: ['Berlin', 'München', 'Hamburg', 'Köln', 'Frankfurt am Main'],
    tld: 'de',
    suffixes: ['GmbH', 'AG', 'GmbH & Co. KG', 'SE', 'UG (haftungsbeschränkt)'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()}${d()}${d()}${d()}`;
      return pick([`+49 30 ${n}`, `030 ${n}`, `0049 (0)89 ${n}`, `+49 (0) 40-${n}`, `0151 ${n}`]);
    },
  },
  {
    names: [
      ['Jean-Luc', 'Marie', 'Léa', 'François', 'Chloé', 'Étienne', 'Anne-Sophie'],
      ['Martin', 'Bernard', 'Dubois', 'Lefèvre', 'de la Croix', 'Lemaître', 'Moreau'],
    ],
    labels: ['France', 'FR', 'FRA', 'République française'],
    cities: ['Paris', 'Lyon', 'Marseille', 'Besançon', 'Orléans'],
    tld: 'fr',
    suffixes: ['SAS', 'SARL', 'S.A.', 'SA', 'SASU'],
    phone: (d, pick) => {
      const p = () => `${d()}${d()}`;
      return pick([
        `+33 1 ${p()} ${p()} ${p()} ${p()}`,
        `01 ${p()} ${p()} ${p()} ${p()}`,
        `06.${p()}.${p()}.${p()}.${p()}`,
      ]);
    },
  },
  {
    names: [
      ['José', 'María', 'Javier', 'Lucía', 'Álvaro', 'Carmen'],
      ['García', 'Fernández', 'Núñez', 'López', 'de la Fuente', 'Martínez'],
    ],
    labels: ['Spain', 'España', 'ES', 'ESP'],
    cities: ['Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Málaga'],
    tld: 'es',
    suffixes: ['S.L.', 'S.A.', 'SL', 'S.L.U.'],
    phone: (d, pick) => {
      const n = () => `${d()}${d()}${d()}`;
      return pick([
        `+34 91 ${n()} ${d()}${d()} ${d()}${d()}`,
        `6${d()}${d()} ${n()} ${n()}`,
        `0034 93 ${n()} ${n()}`,
      ]);
    },
  },
  {
    names: [
      ['Giuseppe', 'Giulia', 'Marco', 'Francesca', 'Alessandro'],
      ['Rossi', 'Russo', 'Ferrari', 'Esposito', "D'Angelo", 'Bianchi'],
    ],
    labels: ['Italy', 'Italia', 'IT', 'ITA'],
    cities: ['Milano', 'Roma', 'Torino', 'Napoli', 'Bologna'],
    tld: 'it',
    suffixes: ['S.r.l.', 'S.p.A.', 'srl', 'SpA'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`;
      return pick([
        `+39 02 ${n}`,
        `02 ${n}`,
        `+39 3${d()}${d()} ${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`,
      ]);
    },
  },
  {
    names: [
      ['Daan', 'Sanne', 'Pieter', 'Femke', 'Joost'],
      ['de Jong', 'van der Berg', 'van Dijk', 'Bakker', 'Jansen'],
    ],
    labels: ['Netherlands', 'The Netherlands', 'Nederland', 'NL', 'Holland'],
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Eindhoven'],
    tld: 'nl',
    suffixes: ['B.V.', 'BV', 'N.V.'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`;
      return pick([`+31 20 ${n}`, `020-${n}`, `06-${d()}${d()}${d()}${d()}${d()}${d()}${d()}${d()}`]);
    },
  },
  {
    names: [
      ['Lars', 'Anna', 'Björn', 'Åsa', 'Erik', 'Ingrid'],
      ['Andersson', 'Johansson', 'Lindqvist', 'Öberg', 'Nilsson'],
    ],
    labels: ['Sweden', 'Sverige', 'SE', 'SWE'],
    cities: ['Stockholm', 'Göteborg', 'Malmö', 'Uppsala'],
    tld: 'se',
    suffixes: ['AB', 'AB (publ)'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()} ${d()}${d()} ${d()}${d()}`;
      return pick([`+46 8 ${n}`, `08-${n}`, `070-${d()}${d()}${d()} ${d()}${d()} ${d()}${d()}`]);
    },
  },
  {
    names: [
      ['Piotr', 'Katarzyna', 'Łukasz', 'Małgorzata', 'Tomasz'],
      ['Kowalski', 'Nowak', 'Wiśniewski', 'Wójcik', 'Kamińska'],
    ],
    labels: ['Poland', 'Polska', 'PL', 'POL'],
    cities: ['Warszawa', 'Kraków', 'Wrocław', 'Gdańsk', 'Łódź'],
    tld: 'pl',
    suffixes: ['Sp. z o.o.', 'S.A.', 'sp. z o.o.'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()} ${d()}${d()}${d()} ${d()}${d()}${d()}`;
      return pick([`+48 ${n}`, `${n}`, `0048 22 ${d()}${d()}${d()} ${d()}${d()} ${d()}${d()}`]);
    },
  },
  {
    names: [
      ['João', 'Ana', 'Luís', 'Beatriz', 'Thiago'],
      ['Silva', 'Santos', 'Oliveira', 'Conceição', 'Gonçalves'],
    ],
    labels: ['Brazil', 'Brasil', 'BR', 'BRA'],
    cities: ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba'],
    tld: 'com.br',
    suffixes: ['Ltda.', 'Ltda', 'S.A.', 'EIRELI'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()}-${d()}${d()}${d()}${d()}`;
      return pick([`+55 11 9${n}`, `(11) 9${n}`, `+55 (21) ${n}`]);
    },
  },
  {
    names: [
      ['Aarav', 'Priya', 'Rahul', 'Ananya', 'Vikram'],
      ['Patel', 'Sharma', 'Iyer', 'Reddy', 'Venkataraman'],
    ],
    labels: ['India', 'IN', 'IND', 'Bharat'],
    cities: ['Bengaluru', 'Mumbai', 'New Delhi', 'Hyderabad', 'Pune'],
    tld: 'in',
    suffixes: ['Pvt Ltd', 'Private Limited', 'Pvt. Ltd.', 'Ltd'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()}${d()} ${d()}${d()}${d()}${d()}${d()}`;
      return pick([
        `+91 9${n.slice(1)}`,
        `09${n.slice(1)}`,
        `+91-80-${d()}${d()}${d()}${d()}${d()}${d()}${d()}${d()}`,
      ]);
    },
  },
  {
    names: [
      ['Haruto', 'Yui', 'Kenji', 'Sakura', 'Takeshi'],
      ['Satō', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe'],
    ],
    labels: ['Japan', 'JP', 'JPN', '日本'],
    cities: ['Tokyo', 'Osaka', 'Kyoto', 'Yokohama', 'Fukuoka'],
    tld: 'co.jp',
    suffixes: ['K.K.', 'Co., Ltd.', 'Kabushiki Kaisha', 'G.K.'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()}-${d()}${d()}${d()}${d()}`;
      return pick([`+81 3-${n}`, `03-${n}`, `090-${n}`]);
    },
  },
  {
    names: [
      ['Wei', 'Li Na', 'Jun', 'Xiu Ying', 'Hao'],
      ['Wang', 'Li', 'Zhang', 'Liu', 'Chen'],
    ],
    labels: ['China', 'CN', 'CHN', "People's Republic of China"],
    cities: ['Shanghai', 'Beijing', 'Shenzhen', 'Hangzhou'],
    tld: 'cn',
    suffixes: ['Co., Ltd.', 'Co. Ltd', 'Ltd.'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`;
      return pick([`+86 21 ${n}`, `+86 138 ${n}`, `021-${n.replace(' ', '')}`]);
    },
  },
  {
    names: [
      ['Seán', 'Siobhán', 'Ciarán', 'Aoife', 'Pádraig'],
      ['Ó Súilleabháin', 'MacCarthy', "O'Neill", 'Kelly', 'Byrne'],
    ],
    labels: ['Ireland', 'IE', 'Éire', 'Republic of Ireland'],
    cities: ['Dublin', 'Cork', 'Galway', 'Limerick'],
    tld: 'ie',
    suffixes: ['Ltd', 'Limited', 'DAC', 'Teoranta'],
    phone: (d, pick) => {
      const n = `${d()}${d()}${d()} ${d()}${d()}${d()}${d()}`;
      return pick([`+353 1 ${n}`, `(01) ${n}`, `087 ${n}`]);
    },
  },
];

const STEMS = [
  'Acme',
  'TechFlow',
  'Nordvik',
  'Globex',
  'Initech',
  'Hooli',
  'Vandelay',
  'Cyberdyne',
  'Blue Harbor',
  'Red Kite',
  'Silver Birch',
  'Quantum Leap',
  'BrightPath',
  'CloudNine',
  'DataWeave',
  'Apex',
  'Summit',
  'Pioneer',
  'Evergreen',
  'Ironclad',
  'Northwind',
  'Contoso',
  'Fabrikam',
  'Tailspin',
  'Woodgrove',
  'Lumen',
  'Orbital',
  'Keystone',
  'Meridian',
  'Halcyon',
];
const WORDS = [
  'Systems',
  'Solutions',
  'Labs',
  'Analytics',
  'Logistics',
  'Software',
  'Consulting',
  'Partners',
  'Group',
  'Technologies',
  'Holdings',
  'Digital',
  'Health',
  'Robotics',
  'Capital',
];
const TITLES = [
  'CEO',
  'Chief Executive Officer',
  'CTO',
  'VP Sales',
  'VP, Sales',
  'vice president of sales',
  'Head of Marketing',
  'Marketing Manager',
  'Sr. Software Engineer',
  'Senior Software Engineer',
  'Director of Engineering',
  'Engineering Manager',
  'Product Manager',
  'HR Business Partner',
  'CFO',
  'Finance Director',
  'Account Executive',
  'SDR',
  'Sales Development Representative',
  'Office Manager',
  'IT Director',
  'General Counsel',
  'COO',
  'Founder & CEO',
  'Co-Founder',
  'Managing Director',
  'Geschäftsführer',
  'Directeur Commercial',
  'Responsable Marketing',
  'Jefe de Ventas',
  'Head of Procurement',
  'Data Scientist',
  'Intern',
  'DIRECTOR OF IT',
];
const INDUSTRIES = [
  'Software',
  'SaaS',
  'Financial Services',
  'Manufacturing',
  'Healthcare',
  'Retail',
  'Logistics',
  'Consulting',
  'Education',
  'Telecommunications',
  'Real Estate',
  'Media',
  'Computer Software',
  'Information Technology & Services',
];
const EMPLOYEES = [
  '1-10',
  '11-50',
  '51-200',
  '201-500',
  '501-1000',
  '1001-5000',
  '5000+',
  '250',
  '1,200',
  '~40',
  '',
];
const SOURCES = [
  'Webinar',
  'Trade Show',
  'Website',
  'Referral',
  'Cold Outreach',
  'Purchased List',
  'LinkedIn',
];
const FREE_MAIL = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'hotmail.co.uk',
  'web.de',
  'orange.fr',
  'gmial.com',
];
const ROLES = ['info', 'sales', 'contact', 'office', 'hello'];
const NOTES = [
  '',
  '',
  '',
  'Met at Dreamforce, wants a demo',
  'Said "call back in Q3"',
  'Budget approved; decision in March',
  'Line one\nLine two',
  '=HYPERLINK("https://crm.example/lead","open")',
  '+ follow up',
  'Prefers email | no calls',
  'Tab\tinside',
];

/** ASCII for addresses: accents dropped, apostrophes and spaces removed. */
function asciiSlug(s: string, joiner = ''): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[łŁ]/g, 'l')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, joiner)
    .replace(new RegExp(`^${joiner}|${joiner}$`, 'g'), '');
}

/** The leads of a file, with the cells as they are written (before CSV quoting). */
export function* generateLeads(options: LeadGenOptions): Generator<GeneratedLead> {
  const rand = rng(options.seed ?? 20260319);
  const brokenRate = options.brokenRate ?? 0.03;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const digit = () => String(Math.floor(rand() * 10));
  const chance = (p: number) => rand() < p;
  for (let i = 0; i < options.rows; i++) {
    const country = pick(COUNTRIES);
    const first = pick(country.names[0]);
    const last = pick(country.names[1]);
    const stem = pick(STEMS);
    const word = chance(0.6) ? pick(WORDS) : '';
    const companyBase = word ? `${stem} ${word}` : stem;
    const company = chance(0.75) ? `${companyBase} ${pick(country.suffixes)}` : companyBase;
    const domain = `${asciiSlug(companyBase, chance(0.3) ? '-' : '')}.${country.tld}`;
    const f = asciiSlug(first);
    const l = asciiSlug(last);
    let email = chance(0.06)
      ? `${f}.${l}${Math.floor(rand() * 100)}@${pick(FREE_MAIL)}`
      : chance(0.03)
        ? `${pick(ROLES)}@${domain}`
        : `${pick([`${f}.${l}`, `${f[0]}${l}`, f, `${f}_${l}`, `${l}.${f}`])}@${domain}`;
    if (chance(0.05)) email = email.toUpperCase();
    if (chance(0.03)) email = `  ${email} `;
    if (chance(0.01)) email = `mailto:${email}`;
    if (chance(0.01)) email = `${first} ${last} <${email}>`;
    const website = pick([
      `https://www.${domain}`,
      `http://${domain}/`,
      `www.${domain}`,
      domain,
      `HTTPS://${domain.toUpperCase()}/about`,
      '',
    ]);
    const cells = [
      email,
      chance(0.04) ? first.toUpperCase() : first,
      chance(0.04) ? last.toLowerCase() : last,
      pick(TITLES),
      company,
      website,
      chance(0.1) ? '' : country.phone(digit, pick),
      pick(country.labels),
      pick(country.cities),
      chance(0.5) ? `https://www.linkedin.com/in/${f}-${l}-${Math.floor(rand() * 1e6).toString(16)}` : '',
      pick(INDUSTRIES),
      pick(EMPLOYEES),
      pick(SOURCES),
      pick(NOTES),
    ];
    let broken: BrokenKind | null = null;
    if (chance(brokenRate)) {
      broken = pick<BrokenKind>(['short_row', 'long_row', 'stray_quote', 'no_email', 'garbage_email']);
      if (broken === 'short_row') cells.length = 2 + Math.floor(rand() * 5);
      else if (broken === 'long_row') cells.push('unexpected', 'cells');
      else if (broken === 'stray_quote') cells[4] = `${stem} "The Best" ${word || 'Co'}`;
      else if (broken === 'no_email') cells[0] = '';
      else cells[0] = pick(['n/a', '#N/A', `${f}(at)${domain}`, `${f}@`, '@@', 'unknown']);
    }
    yield { cells, broken, blankBefore: chance(0.002) };
  }
}

/** CSV text: the header, then one line per lead (CRLF, as Excel writes), quoted only where needed. */
export function* leadCsvLines(options: LeadGenOptions): Generator<string> {
  const d = options.delimiter ?? ',';
  // Stray quotes are the point of `stray_quote` rows: that cell is written as is.
  const quote = (v: string, raw: boolean) =>
    !raw && (v.includes(d) || v.includes('"') || v.includes('\n') || v.includes('\r'))
      ? `"${v.replaceAll('"', '""')}"`
      : v;
  yield `${LEAD_COLUMNS.join(d)}\r\n`;
  for (const lead of generateLeads(options)) {
    const line = lead.cells.map((v, j) => quote(v, lead.broken === 'stray_quote' && j === 4)).join(d);
    yield `${lead.blankBefore ? '\r\n' : ''}${line}\r\n`;
  }
}

function* chunkLines(lines: Iterable<string>): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line);
    size += line.length;
    if (size >= 65536) {
      yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield Buffer.from(parts.join(''));
}

/** Writes the CSV to a file; returns its size in bytes. */
export async function writeLeadCsv(path: string, options: LeadGenOptions): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const chunk of chunkLines(leadCsvLines(options))) {
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
