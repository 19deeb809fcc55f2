import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('login throttling per email and per client address', () => {
  // A short window, so waiting it out is part of the test.
  const WINDOW_S = 2;
  let throttled: Awaited<ReturnType<typeof testGateway>>;
  let shortWindow: Awaited<ReturnType<typeof testGateway>>;
  beforeAll(async () => {
    const limits = { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '5' };
    throttled = await testGateway('gwthrottle', { ...limits, LOGIN_FAILURE_WINDOW_S: '600' });
    shortWindow = await testGateway('gwthrottle2', { ...limits, LOGIN_FAILURE_WINDOW_S: String(WINDOW_S) });
  });
  afterAll(async () => {
    await throttled.close();
    await shortWindow.close();
  });

  /** A login as the node server hands it over: from a socket address, with optional headers. */
  const login = (
    email: string,
    password: string,
    from: string,
    headers: Record<string, string> = {},
    gateway = throttled,
  ) =>
    gateway.app.request(
      '/api/auth/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email, password }),
      },
      { incoming: { socket: { remoteAddress: from } } },
    );
  const retryAfter = async (res: Response) => {
    expect(res.status).toBe(429);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/too many failed logins/);
    const seconds = Number(res.headers.get('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(600);
    return seconds;
  };

  it('blocks an email after its failures, from any address, and lets the right password in after the window', async () => {
    const { email, password } = await shortWindow.signUp();
    const at = (from: string, pw = 'wrong password!') => login(email, pw, from, {}, shortWindow);
    for (let i = 0; i < 3; i++) expect((await at('198.51.100.1')).status).toBe(401);
    // The right password, from another address: still the email's block.
    const wait = await retryAfter(await at('198.51.100.2', password));
    await sleep(wait * 1000 + 100);
    expect((await at('198.51.100.3', password)).status).toBe(200);
    // A success clears the email's count: failures are allowed again.
    for (let i = 0; i < 2; i++) expect((await at('198.51.100.4')).status).toBe(401);
    expect((await at('198.51.100.4', password)).status).toBe(200);
  });

  it("blocks an address spraying many emails, without blocking the emails' owners elsewhere", async () => {
    const victim = await throttled.signUp();
    const attacker = '203.0.113.66';
    for (let i = 0; i < 5; i++) {
      expect((await login(`nobody${i}@x.io`, 'guess guess guess', attacker)).status).toBe(401);
    }
    await retryAfter(await login(victim.email, victim.password, attacker));
    // Forwarded headers are the client's own words without GATEWAY_TRUST_PROXY: no way around the block.
    await retryAfter(
      await login(victim.email, victim.password, attacker, { 'x-forwarded-for': '192.0.2.77' }),
    );
    expect((await login(victim.email, victim.password, '198.51.100.9')).status).toBe(200);
  });

  it('a burst of parallel guesses gets no more than the limit checked', async () => {
    const { email } = await throttled.signUp();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(email, `parallel guess ${i}`, `198.51.100.${20 + i}`)),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });

  it('with GATEWAY_TRUST_PROXY, counts by the address the proxy appended', async () => {
    const proxied = await testGateway('gwproxy', {
      LOGIN_MAX_FAILURES_PER_IP: '2',
      LOGIN_FAILURE_WINDOW_S: '60',
      GATEWAY_TRUST_PROXY: 'true',
    });
    try {
      const via = (email: string, forwardedFor: string) =>
        proxied.app.request(
          '/api/auth/login',
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
            body: JSON.stringify({ email, password: 'guess guess guess' }),
          },
          { incoming: { socket: { remoteAddress: '10.0.0.2' } } },
        );
      // The client's own (spoofed) first entry changes; the proxy's last one does not.
      expect((await via('a@x.io', '1.1.1.1, 203.0.113.5')).status).toBe(401);
      expect((await via('b@x.io', '2.2.2.2, 203.0.113.5')).status).toBe(401);
      expect((await via('c@x.io', '3.3.3.3, 203.0.113.5')).status).toBe(429);
      expect((await via('d@x.io', '203.0.113.6')).status).toBe(401);
    } finally {
      await proxied.close();
    }
  });
});

describe('bearer tokens', () => {
  const probe = (token: string) =>
    app.request('/api/auth/whoami', { headers: { authorization: `Bearer ${token}` } });

  it('rejects every token of the tampering set with 401 and a detail', async () => {
    const victim = await registerAndLogin('tokens@x.io');
    const other = await gw.signUp();
    const good = victim.access_token;
    expect((await probe(good)).status).toBe(200);

    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const hs256 = (body: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT(body).setProtectedHeader({ alg: 'HS256', ...header }).sign(key);
    const rsa = await generateKeyPair('RS256');
    const attackerJwk = await exportJWK(rsa.publicKey);
    // Key confusion: the attacker's own public key, as bytes, used as the HMAC key it names.
    const publicPem = await exportSPKI(rsa.publicKey);

    const cases: Record<string, string> = {
      'payload changed, signature kept (another account)': `${h}.${b64({ ...claims, acc: other.accountId })}.${s}`,
      "payload changed, signature kept (another tenant's sub)": `${h}.${b64({ ...claims, sub: other.userId })}.${s}`,
      'signature flipped': `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`,
      'signature stripped': `${h}.${p}.`,
      'alg none (unsecured JWT)': new UnsecuredJWT(claims).encode(),
      'alg none, signature kept': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`,
      'alg NONE (upper case)': `${b64({ alg: 'NONE' })}.${p}.`,
      'alg switch HS256 → HS512, right key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS512' })
        .sign(key),
      'alg switch HS256 → RS256, attacker key embedded (jwk header)': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', jwk: attackerJwk })
        .sign(rsa.privateKey),
      'key confusion: HS256 keyed with an RSA public key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(publicPem)),
      'alg header HS256 but kid/jku pointing elsewhere, wrong key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: '../../dev/null', jku: 'http://127.0.0.1:9/jwks' })
        .sign(new TextEncoder().encode('x'.repeat(40))),
      'wrong key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('x'.repeat(40))),
      'empty key': `${h}.${p}.${Buffer.from(createHmac('sha256', '').update(`${h}.${p}`).digest()).toString('base64url')}`,
      expired: await hs256({ ...claims, iat: now - 120, exp: now - 10 }),
      'not yet valid (nbf in the future)': await hs256({ ...claims, nbf: now + 600 }),
      'wrong issuer': await hs256({ ...claims, iss: 'someone-else' }),
      'no exp': await hs256(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp'))),
      'no acc claim': await hs256(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'acc'))),
      'acc not a string': await hs256({ ...claims, acc: [claims.acc] }),
      "signed (right key), another tenant's sub with this account": await hs256({
        ...claims,
        sub: other.userId,
      }),
      "signed (right key), this sub with another tenant's account": await hs256({
        ...claims,
        acc: other.accountId,
      }),
      'unknown critical header': await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'HS256', crit: ['x-leedrush'], 'x-leedrush': 1 })
        .sign(key, { crit: { 'x-leedrush': true } }),
      'malformed: two segments': `${h}.${p}`,
      'malformed: four segments': `${good}.${s}`,
      'malformed: header not JSON': `${Buffer.from('{alg:').toString('base64url')}.${p}.${s}`,
      'malformed: not base64url': `${h}.${p}!!.${s}`,
      'malformed: garbage': 'not-a-jwt',
      'malformed: 64 KiB token': `${h}.${'A'.repeat(65_536)}.${s}`,
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await probe(token);
      expect(res.status, name).toBe(401);
      expect(((await res.json()) as { detail?: string }).detail, name).toEqual(expect.any(String));
    }
    // The header itself: missing, another scheme, the scheme alone.
    for (const authorization of [undefined, `Basic ${good}`, 'Bearer', 'Bearer ', `Bearer ${good} extra`]) {
      const res = await app.request('/api/auth/whoami', {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.status, String(authorization)).toBe(401);
      expect(await res.json()).toHaveProperty('detail');
    }
    // None of the above changed anything: the genuine token still works; a deleted user's does not.
    expect((await probe(good)).status).toBe(200);
    await deps.accounts.delete(String(claims.sub));
    const orphan = await probe(good);
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
