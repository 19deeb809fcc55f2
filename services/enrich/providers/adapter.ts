import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import { LRUCache } from 'lru-cache';
import type { FailureReason, ProviderHttp, ProviderResponse, Spent } from '../http.ts';
import type { ProviderAnswer, ProviderName } from '../types.ts';

/** What we know about a lead when asking a provider about the person. */
export interface PersonQuery {
  /** Null when the address is not worth a paid lookup; providers that need it are then not asked. */
  email: string | null;
  linkedin?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  domain?: string | null;
  company?: string | null;
}

/** The outcome of one lookup. `pending` = the provider queued the lookup (Clearbit/Hunter 202). */
export type Lookup = { spent: Spent } & (
  | { kind: 'found'; answer: ProviderAnswer }
  | { kind: 'not_found' }
  | { kind: 'pending' }
  | { kind: 'failed'; reason: FailureReason; detail: string }
);

/** The operations the waterfall can ask of a provider; each adapter implements those its API offers. */
export type Operation = 'person' | 'company' | 'email';

export interface ProviderAdapter {
  readonly name: ProviderName;
  readonly http: ProviderHttp;
  readonly operations: readonly Operation[];
  /** Null when the query lacks what this provider matches on. */
  person?(q: PersonQuery): Promise<Lookup> | null;
  company?(domain: string, email?: string): Promise<Lookup>;
  verifyEmail?(email: string): Promise<Lookup>;
}

/** An adapter for a provider reached at one base URL with one API key. */
export abstract class KeyedAdapter {
  constructor(
    readonly http: ProviderHttp,
    protected readonly baseUrl: string,
    protected readonly apiKey: string,
  ) {}
}

/** Turns a transport response into a lookup, handing a 200 body to the adapter's mapper. */
export function toLookup(
  res: ProviderResponse,
  map: (body: unknown) => ProviderAnswer | null,
  before: Spent = { calls: 0, cost_usd: 0 },
): Lookup {
  const spent = { calls: before.calls + res.calls, cost_usd: before.cost_usd + res.cost_usd };
  if (!res.ok) return { kind: 'failed', reason: res.reason, detail: res.detail, spent };
  if (res.status === 404) return { kind: 'not_found', spent };
  if (res.status === 202) return { kind: 'pending', spent };
  const answer = map(res.body);
  return answer ? { kind: 'found', answer, spent } : { kind: 'not_found', spent };
}

export const addSpent = (a: Spent, b: Spent): Spent => ({
  calls: a.calls + b.calls,
  cost_usd: a.cost_usd + b.cost_usd,
});

/** Narrowing helpers for provider JSON, which we never trust to match its documentation. */
export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
export const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(str).filter((x): x is string => x !== null) : [];

/** Providers report headcount as ranges ("11-50", "10K+"): the midpoint stands for the range. */
export function headcount(range: unknown): number | null {
  const n = num(range);
  if (n !== null) return Math.round(n);
  const s = str(range);
  if (!s) return null;
  const parse = (x: string) => {
    const m = /^([\d.]+)\s*([kK])?$/.exec(x.trim());
    return m?.[1] ? Number(m[1]) * (m[2] ? 1000 : 1) : null;
  };
  const [lo, hi] = s.replace(/\+$/, '').split('-');
  const low = lo === undefined ? null : parse(lo);
  const high = hi === undefined ? null : parse(hi);
  if (low === null) return null;
  return Math.round(high === null ? low : (low + high) / 2);
}

/** LinkedIn URLs and handles ("in/jane-doe") in one canonical form. */
export function linkedinUrl(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const m = /(?:linkedin\.com\/)?(in\/[^/?#\s]+)/i.exec(s);
  return m?.[1] ? `https://www.linkedin.com/${m[1].toLowerCase()}` : null;
}

/** Clearbit/Apollo technology slugs ("google_apps") as display names ("Google Apps"). */
export function techName(slug: string): string {
  return slug
    .split(/[_-]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

/**
 * Names already looked up: getAlpha2Code scans every country's names, and providers repeat a few
 * hundred values, so the scan was a visible share of enrich's CPU. Bounded, as the values come from
 * outside; null (no country) is remembered too.
 */
const CODES = new LRUCache<string, { code: string | null }>({ max: 2_000 });

/** ISO 3166-1 alpha-2 from a code or an English country name ("United States" → "US"). */
export function countryCode(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const known = CODES.get(s);
  if (known) return known.code;
  const code =
    /^[a-z]{2}$/i.test(s) && countries.isValid(s.toUpperCase())
      ? s.toUpperCase()
      : (countries.getAlpha2Code(s, 'en') ?? null);
  CODES.set(s, { code });
  return code;
}
