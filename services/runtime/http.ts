import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HealthReport } from './health.ts';

export interface OpsServerOptions {
  /** 0 picks a free port; the chosen one is in the returned handle. */
  port: number;
  host?: string;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, 'application/json', JSON.stringify(body));

async function route(req: IncomingMessage, res: ServerResponse, opts: OpsServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return json(res, 405, { detail: 'only GET is served here' });
  if (path === '/health') {
    const report = await opts.health();
    return json(res, report.healthy ? 200 : 503, report);
  }
  if (path === '/metrics') return send(res, 200, opts.registry.contentType, await opts.registry.metrics());
  return json(res, 404, { detail: `no route ${path}; try /health or /metrics` });
}

/** /health and /metrics for a service (every service but the gateway, which serves them through Hono). */
export async function serveOps(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    route(req, res, opts).catch((err: unknown) => json(res, 500, { detail: (err as Error).message }));
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
