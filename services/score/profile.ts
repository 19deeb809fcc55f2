import { z } from 'zod';

/** The seniority ladder of StandardizedFields.seniority, most senior first (Unknown is off the ladder). */
export const SENIORITIES = ['C-level', 'VP', 'Director', 'Manager', 'Senior', 'Entry'] as const;
export const DEPARTMENTS = [
  'Sales',
  'Marketing',
  'Engineering',
  'Product',
  'Finance',
  'HR',
  'Operations',
  'IT',
  'Legal',
  'Executive',
  'Other',
] as const;
/** Company size bands by employee count, smallest first. */
export const SIZE_BANDS = [
  '1-10',
  '11-50',
  '51-200',
  '201-500',
  '501-1000',
  '1001-5000',
  '5001-10000',
  '10001+',
] as const;
export type SizeBand = (typeof SIZE_BANDS)[number];

/** Every factor a score is made of; the profile weighs each. */
export const FACTORS = [
  'email',
  'phone',
  'completeness',
  'seniority',
  'department',
  'industry',
  'company_size',
  'country',
  'technologies',
  'signals',
] as const;
export type Factor = (typeof FACTORS)[number];

/** The default B2B profile: decision makers in revenue and technical functions at mid-size companies. */
const DEFAULT_PROFILE = {
  seniorities: ['C-level', 'VP', 'Director', 'Manager'],
  departments: ['Sales', 'Marketing', 'Executive', 'Operations', 'Product', 'Engineering', 'IT'],
  industries: [] as string[],
  company_size_bands: ['51-200', '201-500', '501-1000', '1001-5000'],
  countries: [] as string[],
  technologies: [] as string[],
  signals: ['Hiring', 'Funding', 'Series A', 'Series B', 'Series C', 'Expansion'],
  weights: {
    email: 30,
    phone: 10,
    completeness: 10,
    seniority: 15,
    department: 10,
    industry: 5,
    company_size: 10,
    country: 5,
    technologies: 0,
    signals: 5,
  },
  qualification_threshold: 60,
} as const;

const label = z.string().trim().min(1).max(100);
const list = <T extends z.ZodType>(item: T, def: z.infer<T>[]) => z.array(item).max(200).default(def);
const weight = (def: number) => z.number().min(0).max(100).default(def);
const w = DEFAULT_PROFILE.weights;

/**
 * An account's ideal-customer profile. Every field may be omitted and then takes the default B2B
 * value; unknown fields are refused so a typo does not silently do nothing. An empty target list means
 * "no preference": that factor is left out and the other weights are rescaled (see score.ts).
 */
export const IcpProfileSchema = z
  .strictObject({
    seniorities: list(z.enum(SENIORITIES), [...DEFAULT_PROFILE.seniorities]),
    departments: list(z.enum(DEPARTMENTS), [...DEFAULT_PROFILE.departments]),
    industries: list(label, []),
    company_size_bands: list(z.enum(SIZE_BANDS), [...DEFAULT_PROFILE.company_size_bands]),
    countries: list(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z]{2}$/, 'an ISO 3166-1 alpha-2 code')
        .transform((c) => c.toUpperCase()),
      [],
    ),
    technologies: list(label, []),
    signals: list(label, [...DEFAULT_PROFILE.signals]),
    weights: z
      .strictObject({
        email: weight(w.email),
        phone: weight(w.phone),
        completeness: weight(w.completeness),
        seniority: weight(w.seniority),
        department: weight(w.department),
        industry: weight(w.industry),
        company_size: weight(w.company_size),
        country: weight(w.country),
        technologies: weight(w.technologies),
        signals: weight(w.signals),
      })
      .default({ ...w })
      .refine((ws) => Object.values(ws).some((v) => v > 0), 'at least one weight must be above 0'),
    qualification_threshold: z.number().min(0).max(100).default(DEFAULT_PROFILE.qualification_threshold),
  })
  .describe('Ideal-customer profile used to score leads');

export type IcpProfile = z.output<typeof IcpProfileSchema>;

/** Validates a stored or submitted profile; the error lists every problem by path. */
export function parseProfile(
  input: unknown,
): { ok: true; profile: IcpProfile } | { ok: false; problems: string[] } {
  const parsed = IcpProfileSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, profile: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  };
}

/** The default profile (every field at its default), a fresh copy each call. */
export const defaultProfile = (): IcpProfile => IcpProfileSchema.parse({});
