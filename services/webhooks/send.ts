/**
 * One delivery attempt: a POST to the address that was checked (not a fresh resolution of the host,
 * which could now answer 127.0.0.1), with the URL's host in the Host header and as the TLS server
 * name, so virtual hosts and certificate checks still work. Redirects are not followed (node:http
 * never does): a 3xx is a failed attempt.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { ResolvedTarget } from './address-guard.ts';

export interface AttemptResult {
  /** 0 when no response came. */
  status: number;
  /** Empty on a 2xx. */
  error: string;
  latencyMs: number;
}

/** Bytes of the response body read (and discarded) at most: a receiver cannot make us buffer more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function postOnce(
  target: ResolvedTarget,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<AttemptResult> {
  const started = performance.now();
  const { url } = target;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, error: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, error, latencyMs: Math.round(performance.now() - started) });
    };
    const req = client.request({
      method: 'POST',
      host: target.address,
      family: target.family,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // SNI takes names only (RFC 6066); for an IP URL the certificate is checked against the address.
      servername: isIP(host) ? undefined : host,
      agent: false,
      headers: {
        ...headers,
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'Leedrush-Webhooks/1',
      },
    });
    // The whole attempt (connect, send, response, body) shares one deadline.
    const timer = setTimeout(() => {
      req.destroy();
      // The address named: what was connected to is what the address check approved (DNS rebinding).
      done(0, `timeout after ${timeoutMs} ms (${target.address})`);
    }, timeoutMs);
    req.on('error', (err) => done(0, err.message));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      const finish = () =>
        done(status, status >= 200 && status < 300 ? '' : `HTTP ${status} ${res.statusMessage ?? ''}`.trim());
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    req.end(body);
  });
}
