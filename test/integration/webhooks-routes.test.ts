import { afterAll, describe, expect, it } from 'vitest';
import { webhookRoutes } from '../../gateway/routes/webhooks.ts';
import { testGateway } from '../support/gateway.ts';

// Only 127.0.0.1 is allow-listed: localhost stays a loopback name that must be refused.
const gw = await testGateway('whroutes', { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
afterAll(() => gw.close());

type Json = Record<string, unknown>;
const hook = { url: 'http://127.0.0.1:9/hooks/a', events: ['batch.completed', 'lead.qualified'] };

describe('webhook endpoints', () => {
  it('answers 201 with the secret once; the list never shows it', async () => {
    const { token } = await gw.signUp();
    const res = await gw.json('POST', '/webhooks', hook, token);
    expect(res.status).toBe(201);
    const created = (await res.json()) as Json;
    expect(created).toMatchObject({ url: hook.url, events: hook.events });
    expect(created.id).toMatch(/^wh_[0-9a-f]{24}$/);
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{64}$/);

    const list = await gw.json('GET', '/webhooks', undefined, token);
    expect(list.status).toBe(200);
    const items = (await list.json()) as Json[];
    expect(items).toEqual([
      { id: created.id, url: hook.url, events: hook.events, created_at: created.created_at },
    ]);
    expect(JSON.stringify(items)).not.toContain(String(created.secret));
  });

  it('answers 400 for unknown events, no events, bad URLs and URLs of non-public addresses', async () => {
    const { token } = await gw.signUp();
    const bad = [
      { ...hook, events: ['batch.exploded'] },
      { ...hook, events: [] },
      { url: hook.url },
      { ...hook, url: 'ftp://127.0.0.1/x' },
      { ...hook, url: 'not a url' },
      { ...hook, url: 'http://user:pw@127.0.0.1/x' },
      { ...hook, url: 'http://localhost:8080/x' },
      { ...hook, url: 'http://10.0.0.1/x' },
      { ...hook, url: 'http://169.254.169.254/latest/meta-data' },
      { ...hook, url: 'http://[::ffff:127.0.0.2]/x' },
      { ...hook, url: 'http://0x0a000001/x' },
    ];
    for (const body of bad) {
      const res = await gw.json('POST', '/webhooks', body, token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as Json).detail).toEqual(expect.any(String));
    }
    const list = await gw.json('GET', '/webhooks', undefined, token);
    expect(await list.json()).toEqual([]);
  });

  it("answers 404 for another account's endpoint (delete, deliveries, test) and leaves it in place", async () => {
    const owner = await gw.signUp();
    const other = await gw.signUp();
    const { id } = (await (await gw.json('POST', '/webhooks', hook, owner.token)).json()) as { id: string };
    expect((await gw.json('DELETE', `/webhooks/${id}`, undefined, other.token)).status).toBe(404);
    expect((await gw.json('GET', `/webhooks/${id}/deliveries`, undefined, other.token)).status).toBe(404);
    expect((await gw.json('POST', `/webhooks/${id}/test`, undefined, other.token)).status).toBe(404);
    expect(await (await gw.json('GET', '/webhooks', undefined, other.token)).json()).toEqual([]);
    expect(
      ((await (await gw.json('GET', '/webhooks', undefined, owner.token)).json()) as Json[]).length,
    ).toBe(1);
  });

  it('deletes with 204, then the id is 404', async () => {
    const { token } = await gw.signUp();
    const { id } = (await (await gw.json('POST', '/webhooks', hook, token)).json()) as { id: string };
    const res = await gw.json('DELETE', `/webhooks/${id}`, undefined, token);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await gw.json('DELETE', `/webhooks/${id}`, undefined, token)).status).toBe(404);
    expect((await gw.json('GET', `/webhooks/${id}/deliveries`, undefined, token)).status).toBe(404);
    expect(await (await gw.json('GET', '/webhooks', undefined, token)).json()).toEqual([]);
  });

  it('lists no deliveries for a new endpoint, and requires a token', async () => {
    const { token } = await gw.signUp();
    const { id } = (await (await gw.json('POST', '/webhooks', hook, token)).json()) as { id: string };
    const res = await gw.json('GET', `/webhooks/${id}/deliveries`, undefined, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect((await gw.json('GET', '/webhooks')).status).toBe(401);
    expect((await gw.json('GET', `/webhooks/${id}/deliveries?limit=0`, undefined, token)).status).toBe(400);
  });

  it('documents the routes, DELETE as 204 without a body', () => {
    const doc = webhookRoutes.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    const paths = doc.paths ?? {};
    expect(Object.keys(paths['/webhooks'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/webhooks/{id}']?.delete?.responses ?? {})).toContain('204');
    expect(paths['/webhooks/{id}/deliveries']).toHaveProperty('get');
    expect(Object.keys(paths['/webhooks/{id}/test']?.post?.responses ?? {})).toContain('202');
  });

  it('queues a test event for the endpoint alone, due now; 401 without a token', async () => {
    const { token } = await gw.signUp();
    const { id } = (await (await gw.json('POST', '/webhooks', hook, token)).json()) as { id: string };
    const res = await gw.json('POST', `/webhooks/${id}/test`, undefined, token);
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { event_id: string; event: string };
    expect(queued).toEqual({
      event_id: expect.stringMatching(/^webhook\.test:[0-9a-f]{24}$/),
      event: 'webhook.test',
    });
    const job = JSON.parse(
      (await gw.deps.redis.get(gw.deps.key('wh', 'job', `${id}:${queued.event_id}`))) ?? '{}',
    );
    expect(job).toMatchObject({ endpoint_id: id, event: 'webhook.test', batch_id: null, attempts: 0 });
    expect(JSON.parse(job.data_json)).toMatchObject({ endpoint_id: id });
    const due = Number(await gw.deps.redis.zscore(gw.deps.key('wh', 'due'), `${id}:${queued.event_id}`));
    expect(Math.abs(due - Date.now())).toBeLessThan(10_000);
    expect((await gw.json('POST', `/webhooks/${id}/test`)).status).toBe(401);
  });
});
