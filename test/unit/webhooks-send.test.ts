import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postOnce } from '../../services/webhooks/send.ts';

let server: Server;
let port: number;
const seen: Array<{
  url: string;
  host: string | undefined;
  body: string;
  headers: IncomingMessage['headers'];
}> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', host: req.headers.host, body, headers: req.headers });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/ok' }).end();
      } else if (req.url === '/hang') {
        // never answers
      } else {
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const target = (path: string, host = 'hooks.customer.test') => ({
  url: new URL(`http://${host}:${port}${path}`),
  address: '127.0.0.1',
  family: 4 as const,
});

describe('postOnce', () => {
  it('connects to the checked address, with the URL host in Host and the body and headers as given', async () => {
    const result = await postOnce(
      target('/ok?x=1'),
      Buffer.from('{"a":1}'),
      { 'x-leedrush-signature': 'abc' },
      2_000,
    );
    expect(result).toMatchObject({ status: 204, error: '' });
    const req = seen.at(-1);
    // hooks.customer.test does not resolve anywhere: the request can only have come through the address.
    expect(req).toMatchObject({ url: '/ok?x=1', host: `hooks.customer.test:${port}`, body: '{"a":1}' });
    expect(req?.headers['x-leedrush-signature']).toBe('abc');
    expect(req?.headers['content-type']).toBe('application/json');
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const before = seen.length;
    const result = await postOnce(target('/redirect'), Buffer.from('{}'), {}, 2_000);
    expect(result.status).toBe(302);
    expect(result.error).toMatch(/302/);
    expect(seen.length).toBe(before + 1);
  });

  it('gives up at the timeout with status 0', async () => {
    const result = await postOnce(target('/hang'), Buffer.from('{}'), {}, 150);
    expect(result).toMatchObject({ status: 0, error: 'timeout after 150 ms (127.0.0.1)' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it('reports a refused connection with status 0', async () => {
    const closed = { ...target('/ok'), url: new URL('http://hooks.customer.test:1/ok') };
    const result = await postOnce(closed, Buffer.from('{}'), {}, 2_000);
    expect(result.status).toBe(0);
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
