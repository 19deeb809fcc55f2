import { afterAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../gateway/middleware/rate-limit.ts';
import { testGateway } from '../support/gateway.ts';

const gw = await testGateway('gwrl');
const { app, deps } = gw;
afterAll(() => gw.close());

describe('sliding-window limiter (real Redis)', () => {
  const limiter = new RateLimiter(deps.redis, 60_000);
  const base = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

  it('allows the limit, then denies with a truthful Retry-After', async () => {
    const key = deps.key('rl-unit', 'a');
    for (let i = 0; i < 5; i++) expect((await limiter.take(key, 5, base + 1000)).allowed).toBe(true);
    const denied = await limiter.take(key, 5, base + 2000);
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    // 5 used in this window: room appears when the window rolls and the old count decays below 4/5.
    expect(denied.retryAfterSeconds).toBe(58 + 12);
    // just after the boundary the previous window still weighs ~5: still denied (no double burst)
    expect((await limiter.take(key, 5, base + 60_500)).allowed).toBe(false);
    // at the promised time it is allowed again
    expect((await limiter.take(key, 5, base + 2000 + denied.retryAfterSeconds * 1000)).allowed).toBe(true);
  });

  it('answers a held denial exactly as Redis would until its Retry-After; a new limit asks Redis', async () => {
    const key = deps.key('rl-unit', 'held');
    const held = new RateLimiter(deps.redis, 60_000);
    const fresh = () => new RateLimiter(deps.redis, 60_000);
    for (let i = 0; i < 3; i++) expect((await held.take(key, 3, base + 100)).allowed).toBe(true);
    const denied = await held.take(key, 3, base + 200);
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    const until = base + 200 + denied.retryAfterSeconds * 1000;
    for (const t of [base + 201, base + 30_000, base + 59_999, base + 60_000, base + 61_000, until - 1001]) {
      expect(await held.take(key, 3, t), `at +${t - base} ms`).toEqual(await fresh().take(key, 3, t));
    }
    expect((await held.take(key, 3, until)).allowed).toBe(true);
    // The same key under a higher limit (a plan upgrade) is not held back by the old denial.
    const other = deps.key('rl-unit', 'held2');
    for (let i = 0; i < 3; i++) await held.take(other, 3, base + 100);
    expect((await held.take(other, 3, base + 200)).allowed).toBe(false);
    expect((await held.take(other, 10, base + 300)).allowed).toBe(true);
  });

  it('keeps separate budgets per key', async () => {
    const a = deps.key('rl-unit', 'b1');
    const b = deps.key('rl-unit', 'b2');
    for (let i = 0; i < 3; i++) await limiter.take(a, 3, base + 100);
    expect((await limiter.take(a, 3, base + 100)).allowed).toBe(false);
    expect((await limiter.take(b, 3, base + 100)).allowed).toBe(true);
  });
});

async function tokenFor(email: string): Promise<{ token: string; userId: string }> {
  const password = 'long enough pw';
  const reg = await app.request('/api/auth/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, company: 'Acme' }),
  });
  const { user_id } = (await reg.json()) as { user_id: string };
  const login = await app.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return { token: ((await login.json()) as { access_token: string }).access_token, userId: user_id };
}

describe('plan rate limits on the API', () => {
  it('payg: 30 requests per minute, then 429 with Retry-After and X-RateLimit headers', async () => {
    const { token } = await tokenFor('payg@x.io');
    const get = () => app.request('/api/auth/whoami', { headers: { authorization: `Bearer ${token}` } });
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('30');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('29');
    for (let i = 1; i < 30; i++) expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(((await limited.json()) as { detail: string }).detail).toMatch(/30 requests per minute/);
  });

  it('enterprise is unlimited', async () => {
    const { token, userId } = await tokenFor('ent@x.io');
    await deps.redis.hset(deps.key('user', userId), 'plan_id', 'enterprise');
    for (let i = 0; i < 40; i++) {
      const res = await app.request('/api/auth/whoami', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
  });
});
