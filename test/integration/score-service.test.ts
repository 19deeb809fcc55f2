import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { ProfileStore } from '../../services/score/phase.ts';
import { defaultProfile } from '../../services/score/profile.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

// The score service's profile lookup on the real Redis: the stored JSON, validated, cached; the default
// for an account without one or with an invalid one.

const config = loadConfig();
const redis = createRedis(config.REDIS_URL, 'score-it');
const prefix = `t_score_${randomBytes(4).toString('hex')}`;
const ns = keyspace(prefix);
const invalid: string[] = [];
const store = () => new ProfileStore(redis, ns, (account, problem) => invalid.push(`${account}: ${problem}`));

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

describe('ProfileStore', () => {
  it('reads the account profile stored by the gateway, with defaults for omitted fields', async () => {
    await redis.set(
      ns('scoring-profile', 'acct_a'),
      JSON.stringify({ qualification_threshold: 35, countries: ['DE'] }),
    );
    const profile = await store().profileOf('acct_a');
    expect(profile.qualification_threshold).toBe(35);
    expect(profile.countries).toEqual(['DE']);
    expect(profile.weights).toEqual(defaultProfile().weights);
  });

  it('scores with the default profile when none is stored, and when the stored one is invalid', async () => {
    expect(await store().profileOf('acct_none')).toEqual(defaultProfile());
    await redis.set(ns('scoring-profile', 'acct_bad'), JSON.stringify({ qualification_threshold: 500 }));
    await redis.set(ns('scoring-profile', 'acct_junk'), '{not json');
    const s = store();
    expect(await s.profileOf('acct_bad')).toEqual(defaultProfile());
    expect(await s.profileOf('acct_junk')).toEqual(defaultProfile());
    expect(invalid.some((p) => p.startsWith('acct_bad: qualification_threshold'))).toBe(true);
    expect(invalid.some((p) => p.startsWith('acct_junk: '))).toBe(true);
  });

  it('keeps a read profile for 30 s: one Redis read per account while a batch is scored', async () => {
    const s = store();
    await redis.set(ns('scoring-profile', 'acct_c'), JSON.stringify({ qualification_threshold: 10 }));
    expect((await s.profileOf('acct_c')).qualification_threshold).toBe(10);
    await redis.set(ns('scoring-profile', 'acct_c'), JSON.stringify({ qualification_threshold: 90 }));
    expect((await s.profileOf('acct_c')).qualification_threshold).toBe(10);
    expect((await store().profileOf('acct_c')).qualification_threshold).toBe(90);
  });
});
