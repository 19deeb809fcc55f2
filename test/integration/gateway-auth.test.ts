import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../gateway/auth/accounts.ts';
import { TokenService } from '../../gateway/auth/tokens.ts';
import { testGateway } from '../support/gateway.ts';

const secret = randomBytes(32).toString('hex');
const gw = await testGateway('gwauth', { JWT_SECRET: secret, LOGIN_MAX_FAILURES: '3' });
const { app, deps } = gw;
afterAll(() => gw.close());

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(`/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function registerAndLogin(email: string) {
  const password = 'correct horse battery';
  const reg = await post('/auth/register', { email, password, company: 'Acme' });
  expect(reg.status).toBe(201);
  const login = await post('/auth/login', { email, password });
  expect(login.status).toBe(200);
  return (await login.json()) as { access_token: string; token_type: string; expires_in: number };
}

describe('auth', () => {
  it('registers on payg and logs in with a bearer token', async () => {
    const reg = await post('/auth/register', {
      email: 'Sarah@TechFlow.com',
      password: 'long enough pw',
      company: 'TechFlow',
    });
    expect(reg.status).toBe(201);
    const body = (await reg.json()) as Record<string, string>;
    expect(body).toMatchObject({ email: 'sarah@techflow.com', plan_id: 'payg' });
    expect(body.user_id).toMatch(/^usr_/);

    const login = await post('/auth/login', { email: 'sarah@techflow.com', password: 'long enough pw' });
    expect(login.status).toBe(200);
    const token = (await login.json()) as Record<string, unknown>;
    expect(token).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect(String(token.access_token).split('.')).toHaveLength(3);
    // the stored password is a salted scrypt hash, never the password
    const stored = await deps.redis.hget(deps.key('user', body.user_id as string), 'password_hash');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored).not.toContain('long enough pw');
  });

  it('rejects short passwords, bad emails, malformed JSON and duplicates with 400/409 and a detail', async () => {
    const short = await post('/auth/register', { email: 'a@b.co', password: 'short', company: 'X' });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { detail: string }).detail).toMatch(/password/);
    const bad = await post('/auth/register', {
      email: 'not-an-email',
      password: 'long enough pw',
      company: 'X',
    });
    expect(bad.status).toBe(400);
    const malformed = await post('/auth/register', '{"email": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toHaveProperty('detail');
    await post('/auth/register', { email: 'dup@x.io', password: 'long enough pw', company: 'X' });
    const dup = await post('/auth/register', { email: 'DUP@x.io', password: 'long enough pw', company: 'X' });
    expect(dup.status).toBe(409);
  });

  it('throttles repeated failed logins for one email with 429 and Retry-After', async () => {
    await registerAndLogin('victim@x.io');
    for (let i = 0; i < 3; i++) {
      const wrong = await post('/auth/login', { email: 'victim@x.io', password: 'wrong password!' });
      expect(wrong.status).toBe(401);
    }
    const blocked = await post('/auth/login', { email: 'victim@x.io', password: 'correct horse battery' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // another email is not affected
    await registerAndLogin('bystander@x.io');
  });
});

describe('bearer tokens', () => {
  const probe = (token: string) =>
    app.request('/api/auth/whoami', { headers: { authorization: `Bearer ${token}` } });

  it('accepts a valid token and rejects missing, tampered, none-alg, wrong-alg, expired and orphaned ones', async () => {
    const { access_token } = await registerAndLogin('tokens@x.io');
    expect((await probe(access_token)).status).toBe(200);
    expect((await app.request('/api/auth/whoami')).status).toBe(401);

    const [h, p, s] = access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, acc: 'acc_other' })).toString('base64url');
    expect((await probe(`${h}.${forged}.${s}`)).status).toBe(401);

    const none = new UnsecuredJWT(claims).encode();
    expect((await probe(none)).status).toBe(401);

    const key = new TextEncoder().encode(secret);
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(key);
    expect((await probe(hs512)).status).toBe(401);

    const expired = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key);
    expect((await probe(expired)).status).toBe(401);

    const otherSecret = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('x'.repeat(40)));
    expect((await probe(otherSecret)).status).toBe(401);

    await deps.accounts.delete(claims.sub);
    const orphan = await probe(access_token);
    expect(orphan.status).toBe(401);
    expect(await orphan.json()).toHaveProperty('detail');
  });

  it('keeps a verified token no longer than its exp', async () => {
    const shortLived = new TokenService(secret, 1);
    const token = await shortLived.sign('usr_x', 'acc_x');
    expect(await shortLived.verify(token)).toMatchObject({ userId: 'usr_x', accountId: 'acc_x' });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      exp: number;
    };
    await sleep(exp * 1000 - Date.now() + 50);
    expect(await shortLived.verify(token)).toBeNull();
  });

  it('sees a user deleted by another gateway instance within AUTH_USER_CACHE_MS', async () => {
    const { access_token } = await registerAndLogin('elsewhere@x.io');
    expect((await probe(access_token)).status).toBe(200);
    const { sub } = JSON.parse(Buffer.from(access_token.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
    };
    // Another instance deletes through its own store: this instance's cache is not told.
    await new AccountStore(deps.redis, deps.key).delete(sub);
    await sleep(gw.config.AUTH_USER_CACHE_MS + 50);
    expect((await probe(access_token)).status).toBe(401);
  });
});
