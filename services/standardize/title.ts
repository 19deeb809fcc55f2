/**
 * Job titles: a normalised title, a seniority and a department.
 *
 * How a title is read:
 * 1. Lower-cased; text in parentheses and after " at " / "@" dropped ("Engineer (Contract) at Acme");
 *    abbreviations expanded (Sr → senior, Dir → director, Mktg → marketing, VP → vice president, ...);
 *    known phrases collapsed (chief revenue officer → CRO, co founder → co-founder, head of → head).
 * 2. Split into segments at "&", "and", "/" and at ",", "-", "|". A segment with a role word (CEO,
 *    VP, director, manager, ...) is a role; a segment without one belongs to the role before it
 *    ("VP Sales & Marketing", "VP, Sales"), or after it when it comes first ("Sales & Marketing Manager").
 * 3. The primary role is the most senior one: CEO > chair > president > other chiefs > founder >
 *    co-founder > owner > partner > managing director > VP > head > general manager > director >
 *    chief of staff > manager > team lead > individual contributor. "CEO & Co-Founder" → "CEO".
 *
 * Normalised forms: "CEO" (chief acronyms), "Chief Happiness Officer" (other chiefs), "VP of Sales"
 * ("SVP", "EVP", "AVP" for senior/executive/assistant VPs), "Head of Growth", "Senior Director of
 * Sales", "Senior Product Marketing Manager" (function before "Manager"), and for individual
 * contributors the words in their order, expanded ("Sr. Software Eng." → "Senior Software Engineer").
 *
 * Seniority: from the primary role (chiefs, president, chair, founder, owner, partner, managing director
 * → C-level; VP family → VP; head, general manager, director, chief of staff → Director; manager, team
 * lead, supervisor → Manager); individual contributors are Senior with senior/principal/staff/lead/
 * founding, else Entry; Unknown when no role or occupation word is recognised.
 *
 * Department: a chief with a function takes it (CTO → Engineering, CFO → Finance, CRO and CCO → Sales:
 * revenue is run by sales; CIO/CISO → IT; CPO → Product; CHRO → HR; COO → Operations; CLO → Legal);
 * otherwise, for roles written with a function, the first department word of the function the
 * normalised title shows ("VP Engineering" → Engineering, "Head of Growth" → Marketing); for individual
 * contributors the first department word of the title ("Sales Engineer" → Sales: sales engineers sit in
 * sales); otherwise Executive for president, chair, founder, owner, partner, managing director, general
 * manager, chief of staff and other chiefs; otherwise Other. Roles written alone (Founder, Partner)
 * keep no function, so "Partner, Tax" is Executive.
 *
 * Qualifiers (senior, associate, assistant, executive, deputy, regional, global, area, interim, acting)
 * stand before the role: "Regional Sales Director" → "Regional Director of Sales"; for a Manager every
 * qualifier of its title moves in front ("Manager, Global Accounts" → "Global Accounts Manager").
 */
import { capitalize, cleanField, foldForKey } from '../lib/text.ts';
import { germanCompound, INTL_PHRASES, INTL_WORDS, MAX_INTL_PHRASE } from './title-intl.ts';

export type Seniority = 'C-level' | 'VP' | 'Director' | 'Manager' | 'Senior' | 'Entry' | 'Unknown';
export type Department =
  | 'Sales'
  | 'Marketing'
  | 'Engineering'
  | 'Product'
  | 'Finance'
  | 'HR'
  | 'Operations'
  | 'IT'
  | 'Legal'
  | 'Executive'
  | 'Other';

export interface StandardTitle {
  normalized: string;
  seniority: Seniority;
  department: Department;
}

// How the normalised title is written for a role: the role alone, "<role> of <function>", or
// "<function> <role>".
type Form = 'alone' | 'of' | 'after';

interface Role {
  display: string;
  rank: number;
  seniority: Seniority;
  form: Form;
  /** The department the role itself stands for (CFO → Finance), if any. */
  department?: Department;
  /** Department when the title names no function (founder → Executive). */
  fallback?: Department;
  /** A "chief <x> officer" without an acronym: its display holds its function words. */
  generic?: boolean;
}

const chief = (display: string, department: Department, rank = 90): Role => ({
  display,
  rank,
  seniority: 'C-level',
  form: 'alone',
  department,
});

const ROLES: ReadonlyMap<string, Role> = new Map(
  Object.entries({
    ceo: chief('CEO', 'Executive', 100),
    chair: { display: 'Chair', rank: 97, seniority: 'C-level', form: 'alone', fallback: 'Executive' },
    president: { display: 'President', rank: 95, seniority: 'C-level', form: 'of', fallback: 'Executive' },
    cto: chief('CTO', 'Engineering'),
    cfo: chief('CFO', 'Finance'),
    coo: chief('COO', 'Operations'),
    cmo: chief('CMO', 'Marketing'),
    cro: chief('CRO', 'Sales'),
    cio: chief('CIO', 'IT'),
    ciso: chief('CISO', 'IT'),
    cpo: chief('CPO', 'Product'),
    chro: chief('CHRO', 'HR'),
    cco: chief('CCO', 'Sales'),
    cdo: chief('CDO', 'IT'),
    cso: chief('CSO', 'IT'),
    clo: chief('CLO', 'Legal'),
    founder: { display: 'Founder', rank: 85, seniority: 'C-level', form: 'alone', fallback: 'Executive' },
    'co-founder': {
      display: 'Co-Founder',
      rank: 84,
      seniority: 'C-level',
      form: 'alone',
      fallback: 'Executive',
    },
    owner: { display: 'Owner', rank: 83, seniority: 'C-level', form: 'alone', fallback: 'Executive' },
    partner: { display: 'Partner', rank: 81, seniority: 'C-level', form: 'alone', fallback: 'Executive' },
    'managing-partner': {
      display: 'Managing Partner',
      rank: 82,
      seniority: 'C-level',
      form: 'alone',
      fallback: 'Executive',
    },
    'general-partner': {
      display: 'General Partner',
      rank: 82,
      seniority: 'C-level',
      form: 'alone',
      fallback: 'Executive',
    },
    'general-counsel': {
      display: 'General Counsel',
      rank: 64,
      seniority: 'VP',
      form: 'alone',
      department: 'Legal',
    },
    'managing-director': {
      display: 'Managing Director',
      rank: 80,
      seniority: 'C-level',
      form: 'of',
      fallback: 'Executive',
    },
    vp: { display: 'VP', rank: 65, seniority: 'VP', form: 'of' },
    head: { display: 'Head', rank: 55, seniority: 'Director', form: 'of' },
    'general-manager': {
      display: 'General Manager',
      rank: 52,
      seniority: 'Director',
      form: 'of',
      fallback: 'Executive',
    },
    director: { display: 'Director', rank: 50, seniority: 'Director', form: 'of' },
    // Directors named by a craft, not a function: "Creative Director" does not direct "Creative".
    'creative-director': {
      display: 'Creative Director',
      rank: 50,
      seniority: 'Director',
      form: 'alone',
      department: 'Marketing',
    },
    'art-director': {
      display: 'Art Director',
      rank: 50,
      seniority: 'Director',
      form: 'alone',
      department: 'Marketing',
    },
    'technical-director': {
      display: 'Technical Director',
      rank: 50,
      seniority: 'Director',
      form: 'alone',
      department: 'Engineering',
    },
    'chief-of-staff': {
      display: 'Chief of Staff',
      rank: 48,
      seniority: 'Director',
      form: 'alone',
      fallback: 'Executive',
    },
    manager: { display: 'Manager', rank: 40, seniority: 'Manager', form: 'after' },
    'team-lead': { display: 'Team Lead', rank: 35, seniority: 'Manager', form: 'after' },
    supervisor: { display: 'Supervisor', rank: 34, seniority: 'Manager', form: 'after' },
  }),
);

// Words naming an occupation: a segment with one is an individual contributor's title.
const OCCUPATIONS = new Set(
  (
    'engineer developer analyst consultant designer architect scientist specialist coordinator representative ' +
    'executive associate assistant administrator accountant recruiter advisor adviser counsel attorney lawyer ' +
    'paralegal controller comptroller officer strategist writer copywriter editor producer planner buyer ' +
    'technician agent clerk intern trainee apprentice researcher programmer tester auditor economist ' +
    'bookkeeper receptionist secretary generalist teacher nurse physician lecturer professor student ' +
    'advocate evangelist marketer owner-product partner-business scrum-master treasurer actuary lead ' +
    'statistician investigator operator officer-compliance'
  ).split(' '),
);

const SENIOR_WORDS = new Set(['senior', 'principal', 'staff', 'lead', 'founding']);
const ENTRY_WORDS = new Set([
  'junior',
  'intern',
  'trainee',
  'apprentice',
  'graduate',
  'entry-level',
  'student',
]);
// Words that qualify a role and are written before it: "Senior Director", "Regional VP", "Interim CEO".
const ROLE_QUALIFIERS = new Set(['senior', 'associate', 'assistant', 'executive', 'deputy', 'regional']);
for (const q of ['global', 'area', 'interim', 'acting']) ROLE_QUALIFIERS.add(q);
const VP_GRADES: ReadonlyMap<string, string> = new Map(
  Object.entries({ senior: 'SVP', executive: 'EVP', assistant: 'AVP' }),
);

// Abbreviations as they appear in CRM exports, after dots are removed.
const ABBREVIATIONS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    sr: 'senior',
    snr: 'senior',
    jr: 'junior',
    jnr: 'junior',
    vp: 'vice president',
    svp: 'senior vice president',
    evp: 'executive vice president',
    avp: 'assistant vice president',
    dir: 'director',
    mgr: 'manager',
    mngr: 'manager',
    mgmt: 'management',
    mgt: 'management',
    eng: 'engineer',
    engr: 'engineer',
    engg: 'engineering',
    dev: 'developer',
    swe: 'software engineer',
    sde: 'software engineer',
    sre: 'site reliability engineer',
    mktg: 'marketing',
    mkt: 'marketing',
    mkting: 'marketing',
    mktng: 'marketing',
    acct: 'account',
    acctg: 'accounting',
    exec: 'executive',
    ops: 'operations',
    biz: 'business',
    bd: 'business development',
    bdr: 'business development representative',
    sdr: 'sales development representative',
    ae: 'account executive',
    asst: 'assistant',
    assoc: 'associate',
    coord: 'coordinator',
    spec: 'specialist',
    rep: 'representative',
    sw: 'software',
    hw: 'hardware',
    cust: 'customer',
    svc: 'service',
    svcs: 'services',
    intl: 'international',
    natl: 'national',
    prod: 'product',
    infra: 'infrastructure',
    gm: 'general manager',
    md: 'managing director',
    pres: 'president',
    admin: 'administrator',
    sys: 'systems',
    tech: 'technology',
    cofounder: 'co-founder',
    'co-founders': 'co-founder',
    founders: 'founder',
    'vice-president': 'vice president',
    mgrs: 'manager',
    'sr.': 'senior',
  }),
);

// Phrases (after expansion) that stand for one canonical word.
const PHRASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    'chief executive officer': 'ceo',
    'chief executive': 'ceo',
    'chief technology officer': 'cto',
    'chief technical officer': 'cto',
    'chief financial officer': 'cfo',
    'chief finance officer': 'cfo',
    'chief operating officer': 'coo',
    'chief operations officer': 'coo',
    'chief marketing officer': 'cmo',
    'chief revenue officer': 'cro',
    'chief information officer': 'cio',
    'chief information security officer': 'ciso',
    'chief product officer': 'cpo',
    'chief human resources officer': 'chro',
    'chief hr officer': 'chro',
    'chief people officer': 'chro',
    'chief commercial officer': 'cco',
    'chief data officer': 'cdo',
    'chief security officer': 'cso',
    'chief legal officer': 'clo',
    'chief of staff': 'chief-of-staff',
    'creative director': 'creative-director',
    'art director': 'art-director',
    'technical director': 'technical-director',
    'technology director': 'technical-director',
    'vice president': 'vp',
    'co founder': 'co-founder',
    'founding partner': 'partner',
    'managing partner': 'managing-partner',
    'general partner': 'general-partner',
    'general counsel': 'general-counsel',
    'managing director': 'managing-director',
    'general manager': 'general-manager',
    'head of': 'head',
    'team lead': 'team-lead',
    'team leader': 'team-lead',
    'technology lead': 'technical lead',
    chairman: 'chair',
    chairwoman: 'chair',
    chairperson: 'chair',
    'chair of the board': 'chair',
    'chairman of the board': 'chair',
    proprietor: 'owner',
    'product owner': 'owner-product',
    'business partner': 'partner-business',
    'scrum master': 'scrum-master',
    'compliance officer': 'officer-compliance',
    'business developer': 'business development',
    'research and development': 'r&d',
    'learning and development': 'l&d',
    'mergers and acquisitions': 'm&a',
    'administrator assistant': 'administrative assistant',
    'systems administrator': 'systems administrator',
    'entry level': 'entry-level',
    'front end': 'frontend',
    'front-end': 'frontend',
    'back end': 'backend',
    'back-end': 'backend',
    'full stack': 'full-stack',
    fullstack: 'full-stack',
  }),
);
const MAX_PHRASE = 5;

// Department words, longest phrases first at a position; the first found in the title decides.
const DEPARTMENT_WORDS = new Map<string, Department>();
const addDepartment = (department: Department, words: string) => {
  for (const word of words.split(',')) DEPARTMENT_WORDS.set(word.trim(), department);
};
addDepartment(
  'Sales',
  'sales, business development, account, territory, revenue, commercial, partnerships, channel, customer success',
);
addDepartment(
  'Marketing',
  'marketing, product marketing, growth, brand, demand generation, content, communications, communication, ' +
    'pr, public relations, seo, sem, social media, events, advertising, creative, copywriter, marketer',
);
addDepartment(
  'Engineering',
  'engineering, engineer, software, developer, development, devops, site reliability, qa, quality assurance, ' +
    'architect, frontend, backend, full-stack, mobile, ios, android, data, analytics, data science, ' +
    'machine learning, ml, ai, r&d, programmer, technology, technical lead, firmware, hardware, embedded',
);
addDepartment('Product', 'product, owner-product, ux, ui, design, designer, user experience, user research');
addDepartment(
  'Finance',
  'finance, financial, accounting, accountant, controller, comptroller, treasury, treasurer, tax, audit, ' +
    'auditor, fp&a, accounts payable, accounts receivable, bookkeeper, bookkeeping, payroll, billing, investor relations, actuary',
);
addDepartment(
  'HR',
  'hr, human resources, people, talent, talent acquisition, recruiting, recruiter, recruitment, l&d, ' +
    'compensation, benefits, partner-business',
);
addDepartment(
  'Operations',
  'operations, supply chain, logistics, procurement, purchasing, facilities, office, administrative, ' +
    'project, program, customer support, customer service, support, scrum-master, receptionist',
);
addDepartment(
  'IT',
  'it, information technology, information security, infosec, security, cybersecurity, network, systems, ' +
    'helpdesk, help desk, infrastructure, database administrator, dba, sysadmin',
);
addDepartment(
  'Legal',
  'legal, counsel, general counsel, attorney, lawyer, paralegal, compliance, officer-compliance, privacy, ' +
    'contracts, regulatory',
);

// Display spellings of words that are not simply capitalised.
const DISPLAY: ReadonlyMap<string, string> = new Map(
  Object.entries({
    '&': '&',
    of: 'of',
    and: 'and',
    for: 'for',
    the: 'the',
    to: 'to',
    in: 'in',
    on: 'on',
    de: 'de',
    del: 'del',
    la: 'la',
    du: 'du',
    des: 'des',
    di: 'di',
    ios: 'iOS',
    saas: 'SaaS',
    devops: 'DevOps',
    'owner-product': 'Product Owner',
    'partner-business': 'Business Partner',
    'scrum-master': 'Scrum Master',
    'officer-compliance': 'Compliance Officer',
    'entry-level': 'Entry-Level',
    'full-stack': 'Full-Stack',
    frontend: 'Frontend',
    backend: 'Backend',
    'e-commerce': 'E-commerce',
    ecommerce: 'E-commerce',
    phd: 'PhD',
  }),
);
const UPPER_WORDS = new Set(
  (
    'hr it qa ux ui pr seo sem crm erp aws gtm abm fp&a r&d l&d m&a emea apac latam amer us uk eu ' +
    'ai ml b2b b2c sdr bdr cx pmo sre sap sql bi esg kyc aml dach nordics anz ii iii iv vi ' +
    'ceo cto cfo coo cmo cro cio ciso cpo chro cco cdo cso clo'
  ).split(' '),
);
UPPER_WORDS.delete('nordics');
UPPER_WORDS.delete('dach');
UPPER_WORDS.add('dach');

function displayWord(word: string, first: boolean): string {
  const special = DISPLAY.get(word);
  if (special !== undefined) return first && /^[a-z]+$/.test(special) ? capitalize(special) : special;
  if (UPPER_WORDS.has(word)) return word.toUpperCase();
  return word.split('-').map(capitalize).join('-');
}

function displayWords(words: string[]): string {
  return words.map((w, i) => displayWord(w, i === 0)).join(' ');
}

type Separator = 'and' | 'comma';
interface Token {
  word: string;
  separator?: Separator;
}

/** The longest phrase of `table` that starts at words[start]. */
function longestPhrase(
  words: string[],
  start: number,
  table: ReadonlyMap<string, string>,
  maxSize: number,
): { value: string; size: number } | undefined {
  for (let size = Math.min(maxSize, words.length - start); size >= 1; size--) {
    const value = table.get(words.slice(start, start + size).join(' '));
    if (value !== undefined) return { value, size };
  }
  return undefined;
}

function tokenize(text: string): Token[] {
  const prepared = text
    .toLowerCase()
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .replace(/\s(?:at|@)\s.*$|@.*$/, '')
    // "Executive Assistant to the CEO" is an assistant: the role after "to" is someone else's.
    .replace(/\b(assistant|advisor|adviser|secretary|aide|reporting)\s+to\b.*$/, '$1')
    .replace(/\./g, '')
    .replace(/\s+[-–—|]+\s+|[;|]/g, ' , ')
    .replace(/,/g, ' , ')
    .replace(/\s[&+]\s/g, ' & ')
    .replace(/\//g, ' / ');
  const raws = prepared.split(' ').filter((raw) => raw !== '');
  const folded = raws.map(foldForKey);
  const expanded: string[] = [];
  for (let i = 0; i < raws.length; ) {
    const phrase = longestPhrase(folded, i, INTL_PHRASES, MAX_INTL_PHRASE);
    if (phrase !== undefined) {
      expanded.push(...phrase.value.split(' '));
      i += phrase.size;
      continue;
    }
    const raw = raws[i] ?? '';
    const key = folded[i] ?? '';
    const expansion = ABBREVIATIONS.get(raw) ?? INTL_WORDS.get(key) ?? germanCompound(key);
    if (expansion === undefined) expanded.push(raw);
    else expanded.push(...expansion.split(' '));
    i++;
  }
  const tokens: Token[] = [];
  for (let i = 0; i < expanded.length; ) {
    const phrase = longestPhrase(expanded, i, PHRASES, MAX_PHRASE);
    if (phrase !== undefined) {
      tokens.push(...phrase.value.split(' ').map((word) => ({ word })));
      i += phrase.size;
      continue;
    }
    const word = expanded[i] ?? '';
    i++;
    if (word === '&' || word === 'and' || word === '/') tokens.push({ word, separator: 'and' });
    else if (word === ',') tokens.push({ word, separator: 'comma' });
    else if (/[\p{L}\p{N}]/u.test(word)) tokens.push({ word });
  }
  return tokens;
}

interface Segment {
  words: string[];
  /** How this segment was joined to the one before it. */
  joinedBy: Separator;
  role: Role | null;
  roleWord: string | null;
}

// "chief <x> officer" without an acronym of its own.
function genericChief(words: string[]): Role | null {
  const start = words.indexOf('chief');
  const end = words.lastIndexOf('officer');
  if (start < 0 || end <= start + 1) return null;
  const display = displayWords(words.slice(start, end + 1));
  return { display, rank: 90, seniority: 'C-level', form: 'alone', fallback: 'Executive', generic: true };
}

function segmentRole(words: string[]): { role: Role | null; roleWord: string | null } {
  let best: Role | null = null;
  let bestWord: string | null = null;
  for (const word of words) {
    const role = ROLES.get(word);
    if (role !== undefined && (best === null || role.rank > best.rank)) {
      best = role;
      bestWord = word;
    }
  }
  const generic = genericChief(words);
  if (generic !== null && (best === null || best.rank < generic.rank))
    return { role: generic, roleWord: 'chief' };
  return { role: best, roleWord: bestWord };
}

function segmentsOf(tokens: Token[]): Segment[] {
  const segments: Segment[] = [];
  let current: string[] = [];
  let joinedBy: Separator = 'comma';
  const close = (next: Separator) => {
    if (current.length > 0) segments.push({ words: current, joinedBy, ...segmentRole(current) });
    current = [];
    joinedBy = next;
  };
  for (const token of tokens) {
    if (token.separator !== undefined)
      close(segments.length === 0 && current.length === 0 ? joinedBy : token.separator);
    else current.push(token.word);
  }
  close('comma');
  return segments;
}

// Connecting words of a function, English and Romance ("Jefe de Ventas", "Directeur du Marketing").
const FUNCTION_FILLER = new Set([
  'of',
  'for',
  'the',
  'in',
  'de',
  'del',
  'della',
  'di',
  'du',
  'des',
  'la',
  'da',
  'do',
]);

function functionWords(words: string[], roleAt: number, qualifierEnd: number): string[] {
  const roleWord = words[roleAt];
  // Other role words of the segment are outranked by the primary role: "Head VP" is a VP.
  return words.filter(
    (w, i) =>
      w !== roleWord &&
      !ROLES.has(w) &&
      !FUNCTION_FILLER.has(w) &&
      !(i < qualifierEnd && ROLE_QUALIFIERS.has(w)),
  );
}

function departmentOf(words: string[]): Department | null {
  for (let i = 0; i < words.length; i++) {
    for (let size = Math.min(3, words.length - i); size >= 1; size--) {
      const department = DEPARTMENT_WORDS.get(words.slice(i, i + size).join(' '));
      if (department !== undefined) return department;
    }
  }
  return null;
}

function individualSeniority(words: string[]): Seniority {
  if (words.some((w) => SENIOR_WORDS.has(w))) return 'Senior';
  if (words.some((w) => ENTRY_WORDS.has(w) || OCCUPATIONS.has(w))) return 'Entry';
  return 'Unknown';
}

// Function words name a function, so "engineer" there is the engineering department ("VP Eng").
const asFunction = (words: string[]) => words.map((w) => (w === 'engineer' ? 'engineering' : w));

interface RoleTitle {
  title: string;
  /** The function words, in the order the title shows them (the department is read from these). */
  functionWords: string[];
}

const isQualifier = (w: string) => ROLE_QUALIFIERS.has(w);
const withoutQualifiers = (segment: Segment): Segment => ({
  ...segment,
  words: segment.words.filter((w) => !isQualifier(w)),
});

/**
 * Qualifiers go in front of the role: those before the role word ("Regional Sales Director" is a
 * regional director; "Director of Regional Sales" directs regional sales), those of segments before the
 * role ("Senior, Director"), and, for a role written after its function (Manager), all of them
 * ("Manager, Global Accounts" → "Global Accounts Manager"): read again, they stand before the role.
 */
function roleTitle(role: Role, main: Segment, before: Segment[], after: Segment[]): RoleTitle {
  const roleWord = main.roleWord;
  const roleAt = roleWord === null ? -1 : main.words.indexOf(roleWord);
  const qualifierEnd = role.form === 'after' ? main.words.length : Math.max(roleAt, 0);
  const qualifiers = [
    ...before.flatMap((s) => s.words.filter(isQualifier)),
    ...main.words.slice(0, qualifierEnd).filter((w) => isQualifier(w) && w !== roleWord),
    ...(role.form === 'after' ? after.flatMap((s) => s.words.filter(isQualifier)) : []),
  ];
  const own: Segment = { ...main, words: functionWords(main.words, roleAt, qualifierEnd) };
  const parts = [
    ...before.map(withoutQualifiers),
    own,
    ...(role.form === 'after' ? after.map(withoutQualifiers) : after),
  ];
  let fn: string[] = [];
  const extra: string[][] = [];
  for (const segment of parts) {
    const part = asFunction(
      segment === own ? own.words : segment.words.filter((w) => !FUNCTION_FILLER.has(w)),
    );
    if (part.length === 0) continue;
    if (fn.length === 0) fn = part;
    else if (segment.joinedBy === 'and') fn = [...fn, '&', ...part];
    else extra.push(part);
  }
  let display = role.display;
  let prefix = qualifiers;
  const grade = roleWord === 'vp' ? qualifiers.find((q) => VP_GRADES.has(q)) : undefined;
  if (grade !== undefined) {
    display = VP_GRADES.get(grade) ?? display;
    prefix = qualifiers.filter((q) => q !== grade);
  }
  const head = [...prefix.map((q) => displayWord(q, false)), display].join(' ');
  if (role.form === 'alone') return { title: head, functionWords: [] };
  let title = head;
  if (fn.length > 0 && role.form === 'of') title = `${head} of ${displayWords(fn)}`;
  else if (fn.length > 0)
    title = [...prefix.map((q) => displayWord(q, false)), displayWords(fn), display].join(' ');
  return {
    title: [title, ...extra.map(displayWords)].join(', '),
    functionWords: [...fn, ...extra.flat()],
  };
}

/** Normalised title, seniority and department; null for an empty title. */
export function standardizeTitle(raw: string | null | undefined): StandardTitle | null {
  const text = cleanField(raw);
  if (text === null) return null;
  const tokens = tokenize(text);
  const segments = segmentsOf(tokens);
  if (segments.length === 0) return { normalized: text, seniority: 'Unknown', department: 'Other' };
  const allWords = tokens.filter((t) => t.separator === undefined).map((t) => t.word);

  let primary = -1;
  segments.forEach((segment, index) => {
    const best = segments[primary]?.role;
    if (segment.role !== null && (best == null || segment.role.rank > best.rank)) primary = index;
  });
  const role = segments[primary]?.role ?? null;
  if (role === null) {
    const parts = segments.map(
      (s, i) => (i === 0 ? '' : s.joinedBy === 'and' ? ' & ' : ', ') + displayWords(s.words),
    );
    return {
      normalized: parts.join(''),
      seniority: individualSeniority(allWords),
      department: departmentOf(allWords) ?? 'Other',
    };
  }
  const main = segments[primary] as Segment;
  const { before, after } = attachedSegments(segments, primary);
  const { title, functionWords } = roleTitle(role, main, before, after);
  return {
    normalized: title,
    seniority: role.seniority,
    department: role.department ?? functionDepartment(role, functionWords) ?? role.fallback ?? 'Other',
  };
}

// The department of a role without one of its own comes from the function words its title shows, so
// the title, read again, gives the same department ("Chief Growth Officer" shows its function itself).
function functionDepartment(role: Role, functionWords: string[]): Department | null {
  if (role.generic) return departmentOf(role.display.toLowerCase().split(' '));
  return departmentOf(functionWords);
}

// Role-less segments that belong to the primary role: those after it up to the next role, and those
// before it back to the previous role ("Sales & Marketing Manager").
function attachedSegments(segments: Segment[], primary: number): { before: Segment[]; after: Segment[] } {
  const before: Segment[] = [];
  for (let i = primary - 1; i >= 0 && segments[i]?.role === null; i--) before.unshift(segments[i] as Segment);
  const after: Segment[] = [];
  for (let i = primary + 1; i < segments.length && segments[i]?.role === null; i++)
    after.push(segments[i] as Segment);
  return { before, after };
}
