/** The four paid providers this phase speaks to. */
export const PROVIDERS = ['apollo', 'clearbit', 'hunter', 'snov'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** How a provider judged an email. */
export type Deliverability = 'deliverable' | 'risky' | 'undeliverable';

/** One provider's view of a person, in the internal shape every adapter maps to. */
export interface PersonData {
  full_name: string | null;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  seniority: string | null;
  linkedin: string | null;
  phone: string | null;
  country: string | null;
}

/** One provider's view of a company. */
export interface CompanyData {
  name: string | null;
  domain: string | null;
  industry: string | null;
  employee_count: number | null;
  country: string | null;
  technologies: string[];
  /** Buying signals, e.g. "Series B", "Hiring". */
  signals: string[];
}

/** One provider's verdict on an email address. */
export interface EmailCheck {
  email: string;
  deliverability: Deliverability;
  /** 0..1, the provider's own certainty when it reports one. */
  score: number | null;
}

/** Everything one provider call taught us; null parts mean the provider had nothing. */
export interface ProviderAnswer {
  provider: ProviderName;
  person: PersonData | null;
  company: CompanyData | null;
  email: EmailCheck | null;
}

/** Fields of the person a provider may report. */
export const PERSON_FIELDS = ['name', 'title', 'seniority', 'linkedin', 'phone'] as const;
/** Fields of the company a provider may report. */
export const COMPANY_FIELDS = [
  'company',
  'domain',
  'industry',
  'employee_count',
  'country',
  'technologies',
  'signals',
] as const;

/**
 * The fields the waterfall fills and consensus compares. `email` carries the deliverability verdict;
 * `name`, `title`, `company`, `phone`, `linkedin` are the multi-source lead fields of API.md.
 */
export const FIELDS = ['email', ...PERSON_FIELDS, ...COMPANY_FIELDS] as const;
export type Field = (typeof FIELDS)[number];
export type FieldValue = string | number | string[];
export type FieldValues = Partial<Record<Field, FieldValue>>;

/** List fields are merged as a union; every other field is a single value that sources vote on. */
export const LIST_FIELDS: readonly Field[] = ['technologies', 'signals'];

export const emptyPerson = (): PersonData => ({
  full_name: null,
  first_name: null,
  last_name: null,
  title: null,
  seniority: null,
  linkedin: null,
  phone: null,
  country: null,
});

export const emptyCompany = (): CompanyData => ({
  name: null,
  domain: null,
  industry: null,
  employee_count: null,
  country: null,
  technologies: [],
  signals: [],
});

/** Flattens an answer into the field vocabulary; absent values are left out, never set to null. */
export function answerFields(answer: ProviderAnswer): FieldValues {
  const out: FieldValues = {};
  const put = (field: Field, value: FieldValue | null | undefined) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'string' && value.trim() === '') return;
    if (Array.isArray(value) && value.length === 0) return;
    out[field] = value;
  };
  const p = answer.person;
  if (p) {
    put('name', p.full_name ?? ([p.first_name, p.last_name].filter(Boolean).join(' ') || null));
    put('title', p.title);
    put('seniority', p.seniority);
    put('linkedin', p.linkedin);
    put('phone', p.phone);
  }
  const c = answer.company;
  if (c) {
    put('company', c.name);
    put('domain', c.domain);
    put('industry', c.industry);
    put('employee_count', c.employee_count);
    put('country', c.country ?? p?.country ?? null);
    put('technologies', c.technologies);
    put('signals', c.signals);
  }
  if (answer.email) put('email', answer.email.deliverability);
  return out;
}
