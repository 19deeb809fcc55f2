import { afterAll, describe, expect, it } from 'vitest';
import { testGateway } from '../support/gateway.ts';

const gw = await testGateway('gwdoc');
afterAll(() => gw.close());

describe('OpenAPI document and docs page', () => {
  it('serves OpenAPI 3.1 without a token, generated from the route validators', async () => {
    const res = await gw.app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of [
      ['/auth/register', 'post'],
      ['/auth/login', 'post'],
      ['/upload', 'post'],
      ['/process', 'post'],
      ['/leads', 'post'],
      ['/batches', 'get'],
      ['/batches/{batch_id}', 'get'],
      ['/webhooks', 'post'],
      ['/billing/checkout', 'post'],
      ['/billing/subscription', 'get'],
      ['/billing/upgrade', 'post'],
      ['/billing/downgrade', 'post'],
      ['/billing/refund', 'post'],
      ['/billing/invoices', 'get'],
      ['/billing/invoices/{invoice_number}/pdf', 'get'],
      ['/billing/topup', 'post'],
      ['/billing/usage', 'get'],
      ['/billing/stripe-webhook', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    // billing documents its conflicts and the public, signed receiver
    const refund = doc.paths['/billing/refund']?.post as { responses: Record<string, unknown> };
    expect(Object.keys(refund.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '404', '409']),
    );
    const receiver = doc.paths['/billing/stripe-webhook']?.post as { security?: unknown; responses: object };
    expect(receiver.security).toBeUndefined();
    expect(Object.keys(receiver.responses)).toEqual(expect.arrayContaining(['200', '400']));
    // the validator's constraint shows in the document
    const register = doc.paths['/auth/register']?.post as {
      requestBody: {
        content: { 'application/json': { schema: { properties: { password: { minLength: number } } } } };
      };
    };
    expect(register.requestBody.content['application/json'].schema.properties.password.minLength).toBe(10);
  });

  it('serves a docs page listing the operations', async () => {
    const res = await gw.app.request('/api/docs');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('/api/batches/{batch_id}');
    expect(page).toContain('/api/openapi.json');
  });
});
