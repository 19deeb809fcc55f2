/**
 * One test per status code of API.md's table, each produced by the real condition on the real stack,
 * each error answering {"detail"}.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testGateway } from '../support/gateway.ts';

const UPLOAD_MAX_BYTES = 1024 * 1024;
const gw = await testGateway('status', { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) });
afterAll(() => gw.close());

type Json = Record<string, unknown>;
const csv = (rows: number) =>
  ['email,first_name', ...Array.from({ length: rows }, (_, i) => `p${i}@acme.io,Pat`)].join('\n');

async function expectDetail(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as Json;
  expect(body.detail).toEqual(expect.any(String));
  return body;
}

describe('API.md status codes', () => {
  it('200: a successful read', async () => {
    const { token } = await gw.signUp();
    const res = await gw.json('GET', '/scoring/profile', undefined, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('qualification_threshold');
  });

  it('201: a creation (registration)', async () => {
    const res = await gw.json('POST', '/auth/register', {
      email: 'created@example.com',
      password: 'long enough password',
      company: 'Acme',
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ email: 'created@example.com', plan_id: 'payg' });
  });

  it('400: malformed JSON, an ill-typed field, a bad query parameter', async () => {
    const { token } = await gw.signUp();
    await expectDetail(await gw.json('PUT', '/scoring/profile', '{"weights": {', token), 400);
    await expectDetail(
      await gw.json('PUT', '/scoring/profile', { qualification_threshold: 'high' }, token),
      400,
    );
    await expectDetail(await gw.json('GET', '/batches?sort=colour', undefined, token), 400);
  });

  it('401: missing, tampered and malformed tokens', async () => {
    const { token } = await gw.signUp();
    await expectDetail(await gw.json('GET', '/scoring/profile'), 401);
    const [head, payload, signature = ''] = token.split('.');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await expectDetail(
      await gw.json('GET', '/scoring/profile', undefined, `${head}.${payload}.${flipped}`),
      401,
    );
    await expectDetail(await gw.json('GET', '/scoring/profile', undefined, 'not-a-jwt'), 401);
  });

  it("403: a batch over the plan's per-batch maximum (payg: 10,000 rows)", async () => {
    const { token } = await gw.signUp();
    expect((await gw.upload(token, 'huge.csv', csv(10_001))).status).toBe(201);
    const body = await expectDetail(await gw.json('POST', '/process', { filename: 'huge.csv' }, token), 403);
    expect(body.detail).toMatch(/10000/);
  });

  it("404: an unknown batch and another account's batch look the same", async () => {
    const owner = await gw.signUp();
    const other = await gw.signUp();
    const created = await gw.json('POST', '/leads', { leads: [{ email: 'lead@acme.io' }] }, owner.token);
    expect(created.status).toBe(201);
    const { batch_id } = (await created.json()) as { batch_id: string };
    const foreign = await expectDetail(
      await gw.json('GET', `/batches/${batch_id}`, undefined, other.token),
      404,
    );
    const unknown = await expectDetail(
      await gw.json('GET', '/batches/batch_00000000', undefined, other.token),
      404,
    );
    // The same answer whether the batch exists elsewhere or not at all: existence is not leaked.
    expect(String(foreign.detail).replaceAll(batch_id, 'ID')).toBe(
      String(unknown.detail).replaceAll('batch_00000000', 'ID'),
    );
  });

  it('409: download of a batch that is not completed', async () => {
    const { token } = await gw.signUp();
    const created = await gw.json('POST', '/leads', { leads: [{ email: 'lead@acme.io' }] }, token);
    const { batch_id, status } = (await created.json()) as { batch_id: string; status: string };
    expect(status).toBe('queued');
    const body = await expectDetail(
      await gw.json('GET', `/batches/${batch_id}/download`, undefined, token),
      409,
    );
    expect(body.detail).toMatch(/queued/);
  });

  it('413: an upload larger than the configured limit', async () => {
    const { token } = await gw.signUp();
    const big = `email\n${'a@b.co\n'.repeat(Math.ceil(UPLOAD_MAX_BYTES / 7) + 1)}`;
    await expectDetail(await gw.upload(token, 'big.csv', big), 413);
  });

  it('422: a file without a recognisable email column', async () => {
    const { token } = await gw.signUp();
    const body = await expectDetail(await gw.upload(token, 'names.csv', 'first_name,city\nPat,Oslo\n'), 422);
    expect(body.detail).toMatch(/email/i);
  });

  it('429: over the plan rate limit (payg: 30 per minute), with Retry-After in whole seconds', async () => {
    const { token } = await gw.signUp();
    for (let i = 0; i < 30; i++)
      expect((await gw.json('GET', '/scoring/profile', undefined, token)).status).toBe(200);
    const res = await gw.json('GET', '/scoring/profile', undefined, token);
    await expectDetail(res, 429);
    const retryAfter = res.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // A sliding window: once the new window opens, the old one's 30 still weigh until 1/30 of it
    // has passed, so the honest wait is at most the rest of this minute plus 60/30 s.
    expect(Number(retryAfter)).toBeLessThanOrEqual(60 + 60 / 30);
  });
});

describe('500', () => {
  it('answers {"detail"} without a stack trace when Redis is unreachable', async () => {
    const broken = await testGateway('status500');
    const { token } = await broken.signUp();
    const healthy = broken.deps.redis;
    // Nothing listens on port 1: the connection is refused and commands fail at once.
    const unreachable = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // The refusals are the point: they reach the route as rejected commands, not as stray events.
    unreachable.on('error', () => {});
    await unreachable.connect().catch(() => {});
    broken.deps.redis = unreachable;
    try {
      const res = await broken.json('GET', '/scoring/profile', undefined, token);
      const body = await expectDetail(res, 500);
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|Error:|ECONNREFUSED|writeable/);
    } finally {
      broken.deps.redis = healthy;
      unreachable.disconnect();
      await broken.close();
    }
  });
});
