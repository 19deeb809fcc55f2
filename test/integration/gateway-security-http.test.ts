/**
 * The gateway as a browser or a hostile client meets it over a real socket (the gateway's own server
 * settings, gateway/server.ts): the security headers of every kind of response, bodies over the
 * limits (declared or not), an oversized request head, and slow-loris clients that drip their
 * headers or body, or say nothing at all.
 */
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway } from '../support/gateway.ts';

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const JSON_MAX = 64 * 1024;
const UPLOAD_MAX = 256 * 1024;
const gw = await testGateway('gwsechttp', {
  GATEWAY_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  GATEWAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  GATEWAY_IDLE_TIMEOUT_MS: '1500',
  JSON_BODY_MAX_BYTES: String(JSON_MAX),
  UPLOAD_MAX_BYTES: String(UPLOAD_MAX),
});
const proxied = await testGateway('gwsecproxy', { GATEWAY_TRUST_PROXY: 'true' });
let server: Awaited<ReturnType<typeof gw.listen>>;
let proxiedServer: Awaited<ReturnType<typeof gw.listen>>;
let token = '';
let accountId = '';

beforeAll(async () => {
  server = await gw.listen();
  proxiedServer = await proxied.listen();
  ({ token, accountId } = await gw.signUp());
});
afterAll(async () => {
  await server.close();
  await proxiedServer.close();
  await gw.close();
  await proxied.close();
});

const COMMON = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function expectCommon(res: Response, what: string) {
  for (const [name, value] of Object.entries(COMMON))
    expect(res.headers.get(name), `${what}: ${name}`).toBe(value);
  expect(res.headers.get('x-powered-by'), what).toBeNull();
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("base-uri 'none'");
  return csp;
}

describe('security headers', () => {
  it('every API answer (JSON, errors, 404s, the document) is inert and unframeable', async () => {
    const answers = {
      health: await fetch(`${server.url}/health`),
      'a 200 read': await fetch(`${server.url}/api/auth/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      }),
      'a 401': await fetch(`${server.url}/api/batches`),
      'a 400': await fetch(`${server.url}/api/auth/login`, {
        method: 'POST',
        body: '{',
        headers: { 'content-type': 'application/json' },
      }),
      'an unknown route': await fetch(`${server.url}/api/nope`, {
        headers: { authorization: `Bearer ${token}` },
      }),
      'the OpenAPI document': await fetch(`${server.url}/api/openapi.json`),
    };
    expect(answers['a 401'].status).toBe(401);
    expect(answers['a 400'].status).toBe(400);
    expect(answers['an unknown route'].status).toBe(404);
    for (const [what, res] of Object.entries(answers)) {
      const csp = expectCommon(res, what);
      expect(csp, what).toMatch(/^default-src 'none'/);
      // Plain HTTP: no HSTS, which would only be wrong on http://127.0.0.1.
      expect(res.headers.get('strict-transport-security'), what).toBeNull();
    }
  });

  it('the dashboard may load its own files only; the docs page only its nonce-carrying style', async () => {
    for (const path of ['/app/', '/app/batches', '/app/app.js']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      const csp = expectCommon(res, path);
      expect(csp, path).toMatch(/^default-src 'self'/);
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
    }
    const docs = await fetch(`${server.url}/api/docs`);
    const csp = expectCommon(docs, 'docs');
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toMatch(/^default-src 'none'/);
    const page = await docs.text();
    expect(page).toContain(`<style nonce="${nonce}">`);
    expect(page).not.toContain('<script');
    // A fresh nonce per response: one seen cannot be reused by injected markup.
    const again = (await fetch(`${server.url}/api/docs`)).headers.get('content-security-policy');
    expect(again).not.toBe(csp);
  });

  it('sends HSTS only to clients that came over TLS through the trusted proxy', async () => {
    const viaTls = await fetch(`${proxiedServer.url}/api/openapi.json`, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(viaTls.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const viaHttp = await fetch(`${proxiedServer.url}/api/openapi.json`, {
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(viaHttp.headers.get('strict-transport-security')).toBeNull();
    // Without GATEWAY_TRUST_PROXY the header is the client's own claim and changes nothing.
    const untrusted = await fetch(`${server.url}/api/openapi.json`, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(untrusted.headers.get('strict-transport-security')).toBeNull();
  });
});

/**
 * Streams `total` bytes of `chunk` as a chunked body (no Content-Length) until the server answers;
 * resolves with the answer and how many bytes had been written by then.
 */
function streamUntilAnswered(
  path: string,
  headers: Record<string, string>,
  chunk: Buffer,
  total: number,
  head = Buffer.alloc(0),
) {
  return new Promise<{ status: number; body: string; written: number }>((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request(`${server.url}${path}`, { method: 'POST', headers }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, written });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.write(head);
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('oversized requests', () => {
  it('413 with a detail for a JSON body over the limit, declared or streamed, read no further than needed', async () => {
    const declared = await fetch(`${server.url}/api/scoring/profile`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: `{"weights":"${'x'.repeat(JSON_MAX)}"}`,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { detail: string }).detail).toMatch(/larger than 65536 bytes/);

    // 64 MiB offered without a Content-Length: the server answers once the limit is passed.
    const streamed = await streamUntilAnswered(
      '/api/scoring/profile',
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      Buffer.alloc(64 * 1024, 'x'),
      64 * 1024 * 1024,
    );
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toHaveProperty('detail');
    // What was written by then is the limit plus what socket buffers hold: nowhere near the 64 MiB.
    expect(streamed.written).toBeLessThan(16 * 1024 * 1024);
  });

  it('413 for an upload over the limit without a Content-Length, and nothing kept on disk', async () => {
    const boundary = 'leedrushBoundary';
    const head = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.csv"\r\ncontent-type: text/csv\r\n\r\nemail\r\n`,
    );
    const answer = await streamUntilAnswered(
      '/api/upload',
      { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      Buffer.from('a@b.co\r\n'.repeat(8192)),
      64 * 1024 * 1024,
      head,
    );
    expect(answer.status, answer.body).toBe(413);
    expect(JSON.parse(answer.body).detail).toMatch(/exceeds the limit of 262144 bytes/);
    expect(answer.written).toBeLessThan(16 * 1024 * 1024);
    // Neither the file nor a partial temporary file is left in the account's folder.
    const folder = join(gw.config.UPLOAD_DIR, accountId);
    expect(readdirSync(folder, { withFileTypes: true }).map((d) => d.name)).toEqual([]);
  });

  it('431 for a request head larger than Node allows (16 KiB)', async () => {
    const res = await fetch(`${server.url}/api/auth/whoami`, { headers: { 'x-filler': 'y'.repeat(20_000) } });
    expect(res.status).toBe(431);
  });
});

/**
 * A raw connection that sends `head`, then `drip` every `everyMs`; resolves when the server closes it,
 * with how long that took and what it answered.
 */
function slowClient(head: string, drip: string, everyMs: number, giveUpMs = 15_000) {
  return new Promise<{ closedAfterMs: number; answer: string }>((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = connect(server.port, '127.0.0.1', () => {
      if (head) socket.write(head);
    });
    const timer = setInterval(() => {
      if (drip && socket.writable) socket.write(drip);
    }, everyMs);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, answer });
    });
  });
}

describe('slow-loris', () => {
  // The deadline, plus Node's check interval (a quarter of the headers timeout), plus scheduling slack.
  const bound = (deadlineMs: number) => deadlineMs + HEADERS_TIMEOUT_MS / 4 + 1_000;

  it('closes a connection whose headers are dripped, with 408, by the headers deadline', async () => {
    const { closedAfterMs, answer } = await slowClient(
      'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n',
      'X-Drip: a\r\n',
      100,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(closedAfterMs).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
  });

  it('closes a connection that never sends a byte, by the headers deadline', async () => {
    const { closedAfterMs } = await slowClient('', '', 1_000);
    expect(closedAfterMs).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
  });

  it('closes a connection whose body is dripped a byte at a time, by the request deadline', async () => {
    const { closedAfterMs } = await slowClient(
      'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      ' ',
      100,
    );
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(closedAfterMs).toBeLessThan(bound(REQUEST_TIMEOUT_MS));
  });

  it('keeps serving everyone else meanwhile', async () => {
    const drips = Array.from({ length: 20 }, () =>
      slowClient('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Drip: a\r\n', 200),
    );
    const started = Date.now();
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const d of await Promise.all(drips)) expect(d.closedAfterMs).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
  });
});
