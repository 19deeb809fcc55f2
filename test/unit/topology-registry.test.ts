/**
 * The registry client's error handling, against a real HTTP server on loopback that misbehaves in the
 * ways a registry or a proxy in front of it can.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, RegistryError } from '../../services/lib/registry.ts';

let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; body: string; type: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, type: req.headers['content-type'] });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url === '/r/subjects/a%2Fb-value/versions') return json(200, { id: 7 });
      if (req.url === '/r/subjects/missing-value')
        return json(404, { error_code: 40401, message: 'Subject not found' });
      if (req.url === '/r/config/missing-value')
        return json(404, { error_code: 40401, message: 'Subject not found' });
      if (req.url === '/r/config/legacy-value') return json(200, { compatibility: 'FULL' });
      if (req.url === '/r/subjects/bad-value/versions')
        return json(409, { error_code: 409, message: 'Incompatible' });
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('registry client', () => {
  it('posts the schema as Avro with the registry content type, encoding the subject', async () => {
    const registry = createRegistry(`${base}/r/`);
    expect(await registry.register('a/b-value', '"string"')).toEqual({ id: 7 });
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/r/subjects/a%2Fb-value/versions',
      body: JSON.stringify({ schema: '"string"', schemaType: 'AVRO' }),
      type: 'application/vnd.schemaregistry.v1+json',
    });
  });

  it('turns 404 into null for lookups and compatibility reads', async () => {
    const registry = createRegistry(`${base}/r`);
    expect(await registry.lookup('missing-value', '"string"')).toBeNull();
    expect(await registry.getCompatibility('missing-value')).toBeNull();
    expect(await registry.getCompatibility('legacy-value')).toBe('FULL');
  });

  it('reports a refused registration with status 409 and the registry error code', async () => {
    const err = await createRegistry(`${base}/r`)
      .register('bad-value', '"string"')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ status: 409, errorCode: 409 });
    expect((err as Error).message).toMatch(/409 Incompatible/);
  });

  it('reports a non-JSON error page with its status and start', async () => {
    const err = await createRegistry(`${base}/r`)
      .listSubjects()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, errorCode: null });
    expect((err as Error).message).toMatch(/502 <html>Bad gateway/);
  });

  it('gives up on a registry that does not answer within the timeout', async () => {
    const err = await createRegistry(`${base}/hang`, { timeoutMs: 200 })
      .listSubjects()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ status: 0 });
    expect((err as Error).message).toMatch(/timeout/i);
  });
});
