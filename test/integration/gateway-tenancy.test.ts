/**
 * Another tenant's ids on every route, derived from the OpenAPI document: each operation is either
 * called with the owner's ids by an intruder (404, and nothing changed for the owner), a listing that
 * must show the intruder only its own data, or a route without tenant data (with the reason). An
 * operation the document gains without a case here fails the test, and so does an operation with a
 * path parameter or an id in its body that is not called with a foreign id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../schemas/generated.ts';
import { usageRow } from '../../services/usage/phase.ts';
import { storedBatch, testGateway } from '../support/gateway.ts';
import { completedSession, postEvent, signedEvent } from '../support/stripe.ts';

const SECRET = 'whsec_tenancy_test_secret';
const gw = await testGateway('gwtenancy', {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  STRIPE_WEBHOOK_SECRET: SECRET,
});
afterAll(() => gw.close());

type Json = Record<string, unknown>;
type User = Awaited<ReturnType<typeof gw.signUp>>;
let owner: User;
let intruder: User;
/** The owner's ids, as an intruder would guess or learn them. */
const ids = { batch: '', upload: '', filename: 'owner-secret.csv', webhook: '', invoice: '', order: '' };

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await gw.json(method, path, body, token);
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') && text;
  return { status: res.status, text, body: json ? (JSON.parse(text) as Json & Json[]) : null };
};

beforeAll(async () => {
  owner = await gw.signUp();
  intruder = await gw.signUp();
  // Plans' rate limits would answer 429 before the ownership check: both may call freely.
  for (const u of [owner, intruder])
    await gw.deps.redis.hset(gw.deps.key('user', u.userId), 'plan_id', 'enterprise');

  const up = (await (await gw.upload(owner.token, ids.filename, 'email\nsecret@owner.io\n')).json()) as Json;
  ids.upload = String(up.file_path);
  ids.batch = await storedBatch(gw.deps, owner.accountId, 4);
  const hook = await call('POST', '/webhooks', owner.token, {
    url: 'http://127.0.0.1:9/owner',
    events: ['batch.completed'],
  });
  ids.webhook = String(hook.body?.id);
  // A paid top-up: an order with its invoice, refundable.
  const topup = await call('POST', '/billing/topup', owner.token, { credits: 500 });
  expect(topup.status).toBe(201);
  ids.order = String(topup.body?.order_id);
  const paid = completedSession(topup.body as never, owner.accountId, 'payment');
  expect((await postEvent(gw.app, signedEvent('checkout.session.completed', paid, SECRET))).status).toBe(200);
  const invoices = (await call('GET', '/billing/invoices', owner.token)).body as Json[];
  ids.invoice = String(invoices[0]?.invoice_number);
  await call('PUT', '/scoring/profile', owner.token, { qualification_threshold: 91 });
  const usage: UsageEvent = {
    event_id: `consume:${ids.batch}:0`,
    account_id: owner.accountId,
    kind: 'consume',
    credits: -1,
    balance_after: 0,
    batch_id: ids.batch,
    lead_id: `${ids.batch}:0`,
    reference: null,
    occurred_at: Date.now(),
  };
  await gw.deps.clickhouse.insert({
    table: 'usage_events',
    values: [usageRow(usage)],
    format: 'JSONEachRow',
  });
});

/** Called by the intruder with the owner's ids: 404 with a detail; `intact` checks the owner's side after. */
interface ForeignCase {
  calls: () => Array<{ path: string; body?: unknown }>;
  intact?: () => Promise<void>;
}
const foreign: Record<string, ForeignCase> = {
  'POST /process': {
    calls: () => [
      { path: '/process', body: { file_path: ids.upload } },
      { path: '/process', body: { filename: ids.filename } },
      { path: '/process', body: { file_path: `/uploads/../${owner.accountId}/${ids.upload.slice(9)}` } },
    ],
  },
  'GET /batches/{batch_id}': { calls: () => [{ path: `/batches/${ids.batch}` }] },
  'GET /batches/{batch_id}/download': {
    calls: () => [
      { path: `/batches/${ids.batch}/download` },
      { path: `/batches/${ids.batch}/download?format=json&include=all` },
    ],
  },
  'DELETE /webhooks/{id}': {
    calls: () => [{ path: `/webhooks/${ids.webhook}` }],
    intact: async () => {
      const list = (await call('GET', '/webhooks', owner.token)).body as Json[];
      expect(list.map((w) => w.id)).toEqual([ids.webhook]);
    },
  },
  'GET /webhooks/{id}/deliveries': { calls: () => [{ path: `/webhooks/${ids.webhook}/deliveries` }] },
  'POST /webhooks/{id}/test': {
    calls: () => [{ path: `/webhooks/${ids.webhook}/test` }],
    intact: async () => expect(await gw.deps.webhookQueue.pending()).toBe(0),
  },
  'GET /billing/invoices/{invoice_number}/pdf': {
    calls: () => [{ path: `/billing/invoices/${ids.invoice}/pdf` }],
  },
  'POST /billing/refund': {
    calls: () => [
      { path: '/billing/refund', body: { order_id: ids.order, amount: 100, reason: 'mine now' } },
    ],
    intact: async () => {
      // The owner can still refund the whole order (500 credits x 10 cents): the intruder took nothing.
      const refund = await call('POST', '/billing/refund', owner.token, {
        order_id: ids.order,
        amount: 5000,
        reason: 'r',
      });
      expect(refund.status, refund.text).toBe(201);
    },
  },
};

/** Listings and reads of "my" data: the intruder's answer never holds anything of the owner's. */
const ownOnly: Record<string, { path: string; expectOwn: (body: unknown) => void }> = {
  'GET /batches': { path: '/batches', expectOwn: (b) => expect(b).toEqual([]) },
  'GET /webhooks': { path: '/webhooks', expectOwn: (b) => expect(b).toEqual([]) },
  'GET /billing/invoices': { path: '/billing/invoices', expectOwn: (b) => expect(b).toEqual([]) },
  'GET /billing/usage': {
    path: '/billing/usage',
    expectOwn: (b) => expect((b as { total_consumed: number }).total_consumed).toBe(0),
  },
  'GET /billing/subscription': {
    path: '/billing/subscription',
    expectOwn: (b) => expect(b).toMatchObject({ plan_id: 'payg' }),
  },
  'GET /scoring/profile': {
    path: '/scoring/profile',
    expectOwn: (b) => expect((b as { qualification_threshold: number }).qualification_threshold).not.toBe(91),
  },
  'GET /auth/whoami': {
    path: '/auth/whoami',
    expectOwn: (b) => expect(b).toMatchObject({ account_id: intruder.accountId, user_id: intruder.userId }),
  },
};

/** Operations that take no id of anything a tenant owns: why each is safe from this attack. */
const noTenantIds: Record<string, string> = {
  'POST /auth/register': 'public; creates a new account',
  'POST /auth/login': 'public; credentials only',
  'POST /upload': "writes into the caller's own store only",
  'POST /leads': "creates a batch in the caller's account",
  'POST /webhooks': "creates an endpoint in the caller's account",
  'PUT /scoring/profile': "writes the caller's profile only (ownOnly reads it back)",
  'POST /billing/checkout': "opens a Stripe session for the caller's account",
  'POST /billing/upgrade': "changes the caller's plan",
  'POST /billing/downgrade': "changes the caller's plan",
  'POST /billing/topup': "opens a Stripe session for the caller's account",
  'POST /billing/stripe-webhook': 'public, Stripe-signed: the account comes from the signed event',
  'GET /v1/cache/stats': 'service-wide cache figures, no tenant data',
  'GET /v1/enrichment/predictive': 'service-wide figures, no tenant data',
  'GET /v1/validation/multi-source': 'validates an email given in the query, stores nothing per tenant',
};

/** Body ids that name the product's catalogue, not anything a tenant owns. */
const CATALOGUE_IDS = new Set(['plan_id']);

interface Operation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

describe("another tenant's ids on every route", () => {
  it('classifies every operation of the OpenAPI document, and calls every one that takes an id', async () => {
    const doc = (await (await gw.app.request('/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );
    const classified = [...Object.keys(foreign), ...Object.keys(ownOnly), ...Object.keys(noTenantIds)];
    expect(new Set(classified).size, 'an operation classified twice').toBe(classified.length);
    expect([...classified].sort()).toEqual(operations.map((o) => o.name).sort());
    for (const { name, op } of operations) {
      const pathIds = (op.parameters ?? []).filter((p) => p.in === 'path');
      const bodyProps = Object.values(op.requestBody?.content ?? {}).flatMap((c) =>
        Object.keys(c.schema?.properties ?? {}),
      );
      const bodyIds = bodyProps.filter(
        (p) => /(^|_)id$|^file_path$|^filename$/.test(p) && !CATALOGUE_IDS.has(p),
      );
      if (pathIds.length || bodyIds.length)
        expect(Object.keys(foreign), `${name} takes an id`).toContain(name);
    }
  });

  it('answers 404 with a detail to every call with the owner ids, and changes nothing of the owner', async () => {
    for (const [name, c] of Object.entries(foreign)) {
      const method = name.split(' ')[0] as string;
      for (const { path, body } of c.calls()) {
        const res = await call(method, path, intruder.token, body);
        expect(res.status, `${name}: ${path} ${JSON.stringify(body)} → ${res.text}`).toBe(404);
        expect(res.body?.detail, name).toEqual(expect.any(String));
        // The answer does not confirm anything the intruder did not send.
        if (!`${path}${JSON.stringify(body)}`.includes(owner.accountId))
          expect(res.text, name).not.toContain(owner.accountId);
      }
      await c.intact?.();
    }
    // ... and the owner's own calls still work.
    expect((await call('GET', `/batches/${ids.batch}`, owner.token)).status).toBe(200);
    expect((await call('GET', `/batches/${ids.batch}/download`, owner.token)).status).toBe(200);
  });

  it("answers every listing with the intruder's own data only", async () => {
    for (const [name, { path, expectOwn }] of Object.entries(ownOnly)) {
      const res = await call('GET', path, intruder.token);
      expect(res.status, name).toBe(200);
      expectOwn(res.body);
      for (const id of [owner.accountId, owner.userId, ids.batch, ids.webhook, ids.invoice, ids.order]) {
        expect(res.text, `${name} leaks ${id}`).not.toContain(id);
      }
    }
  });
});
