import { afterAll, describe, expect, it } from 'vitest';
import { ProfileStore } from '../../services/score/phase.ts';
import { defaultProfile } from '../../services/score/profile.ts';
import { testGateway } from '../support/gateway.ts';

const gw = await testGateway('scoring');
afterAll(() => gw.close());

type Json = Record<string, unknown>;

describe('scoring profile routes', () => {
  it('GET answers the default profile for an account that never set one', async () => {
    const { token } = await gw.signUp();
    const res = await gw.json('GET', '/scoring/profile', undefined, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(defaultProfile());
  });

  it('PUT stores the profile where the score service reads it; GET returns it; accounts are apart', async () => {
    const owner = await gw.signUp();
    const other = await gw.signUp();
    const body = {
      seniorities: ['VP', 'Director'],
      industries: ['Software'],
      countries: ['de', 'FR'],
      weights: { email: 50, phone: 0, seniority: 50 },
      qualification_threshold: 75,
    };
    const put = await gw.json('PUT', '/scoring/profile', body, owner.token);
    expect(put.status).toBe(200);
    const stored = (await put.json()) as Json;
    // Omitted fields take their defaults, country codes are upper-cased.
    expect(stored).toMatchObject({ ...body, countries: ['DE', 'FR'] });
    expect(stored.departments).toEqual(defaultProfile().departments);
    expect((stored.weights as Json).completeness).toBe(defaultProfile().weights.completeness);

    const got = await gw.json('GET', '/scoring/profile', undefined, owner.token);
    expect(await got.json()).toEqual(stored);
    const theirs = await gw.json('GET', '/scoring/profile', undefined, other.token);
    expect(await theirs.json()).toEqual(defaultProfile());

    const invalid: string[] = [];
    const scoreSide = new ProfileStore(gw.deps.redis, gw.deps.key, (_a, p) => invalid.push(p));
    expect(await scoreSide.profileOf(owner.accountId)).toEqual(stored);
    expect(await scoreSide.profileOf(other.accountId)).toEqual(defaultProfile());
    expect(invalid).toEqual([]);
  });

  it('PUT answers 400 with a detail naming the problem, and keeps the previous profile', async () => {
    const { token } = await gw.signUp();
    await gw.json('PUT', '/scoring/profile', { qualification_threshold: 40 }, token);
    const bad: [unknown, string][] = [
      [{ qualification_threshold: 140 }, 'qualification_threshold'],
      [{ seniorities: ['Overlord'] }, 'seniorities'],
      [{ countries: ['Germany'] }, 'countries'],
      [
        {
          weights: {
            email: 0,
            phone: 0,
            completeness: 0,
            seniority: 0,
            department: 0,
            industry: 0,
            company_size: 0,
            country: 0,
            technologies: 0,
            signals: 0,
          },
        },
        'weights',
      ],
      [{ treshold: 50 }, 'treshold'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of bad) {
      const res = await gw.json('PUT', '/scoring/profile', body, token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as Json).detail).toContain(field);
    }
    const malformed = await gw.json('PUT', '/scoring/profile', '{"qualification_threshold": ', token);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as Json).detail).toEqual(expect.any(String));

    const got = (await (await gw.json('GET', '/scoring/profile', undefined, token)).json()) as Json;
    expect(got.qualification_threshold).toBe(40);
  });

  it('answers 401 without a token', async () => {
    expect((await gw.json('GET', '/scoring/profile')).status).toBe(401);
    expect((await gw.json('PUT', '/scoring/profile', {})).status).toBe(401);
  });
});
