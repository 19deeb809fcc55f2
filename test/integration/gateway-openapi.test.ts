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
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
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
