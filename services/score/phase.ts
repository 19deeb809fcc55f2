import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { DedupedLead, ScoredLead } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase, ok, type PhaseDefinition } from '../runtime/index.ts';
import { defaultProfile, type IcpProfile, parseProfile } from './profile.ts';
import { scoreLead } from './score.ts';

/** How long an account's profile is reused before Redis is asked again (a PUT shows within this). */
export const PROFILE_TTL_MS = 30_000;

/** The Redis key of an account's profile JSON (written by the gateway, read here). */
export const profileKey = (ns: (...parts: string[]) => string, accountId: string) =>
  ns('scoring-profile', accountId);

/**
 * The accounts' ideal-customer profiles: JSON under `<ns>:scoring-profile:<account>` (what the gateway's
 * PUT /api/scoring/profile stores), validated with the same zod schema, cached in-process for 30 s so a
 * batch costs one Redis read per account. A missing or invalid profile scores with the default (an
 * invalid one is logged: the gateway validates before storing, so it means a hand-edited key).
 */
export class ProfileStore {
  private readonly cache = new LRUCache<string, IcpProfile>({ max: 10_000, ttl: PROFILE_TTL_MS });

  constructor(
    private readonly redis: Redis,
    private readonly ns: (...parts: string[]) => string,
    private readonly onInvalid: (accountId: string, problem: string) => void,
  ) {}

  async profileOf(accountId: string): Promise<IcpProfile> {
    const cached = this.cache.get(accountId);
    if (cached) return cached;
    const json = await this.redis.get(profileKey(this.ns, accountId));
    const profile = json === null ? defaultProfile() : this.parse(accountId, json);
    this.cache.set(accountId, profile);
    return profile;
  }

  private parse(accountId: string, json: string): IcpProfile {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch (err) {
      this.onInvalid(accountId, (err as Error).message);
      return defaultProfile();
    }
    const parsed = parseProfile(raw);
    if (parsed.ok) return parsed.profile;
    this.onInvalid(accountId, parsed.problems.join('; '));
    return defaultProfile();
  }
}

/** Where the phase finds an account's profile: the ProfileStore in the service, one fixed profile embedded. */
export interface ProfileSource {
  profileOf(accountId: string): Promise<IcpProfile>;
}

/**
 * Phase 6: leads.deduped → leads.scored, keyed by lead. Nothing downstream needs an account's leads
 * together (the sink's writes and counts are per lead and idempotent); keyed by account, the sink read
 * a 100,000-lead batch from a single partition, one fetch-insert-commit round after another, and
 * finished 14-16 s after score.
 */
export function scorePhase(profiles: ProfileSource): PhaseDefinition<DedupedLead, ScoredLead> {
  return definePhase<DedupedLead, ScoredLead>({
    name: 'score',
    input: { topic: TOPICS.deduped, record: 'DedupedLead' },
    output: { topic: TOPICS.scored, record: 'ScoredLead' },
    keyOf: (lead) => lead.meta.lead_id,
    phase: async (lead) => ok(scoreLead(lead, await profiles.profileOf(lead.meta.account_id))),
  });
}
