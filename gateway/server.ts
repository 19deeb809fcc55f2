import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { GatewayConfig } from './config.ts';

type Fetch = Parameters<typeof serve>[0]['fetch'];
type Timeouts = Pick<
  GatewayConfig,
  'GATEWAY_HEADERS_TIMEOUT_MS' | 'GATEWAY_REQUEST_TIMEOUT_MS' | 'GATEWAY_IDLE_TIMEOUT_MS'
>;

/**
 * The gateway's HTTP server, with deadlines on what a client sends: its request head within
 * GATEWAY_HEADERS_TIMEOUT_MS, its whole request within GATEWAY_REQUEST_TIMEOUT_MS (both answered 408
 * and closed by Node), and no silence longer than GATEWAY_IDLE_TIMEOUT_MS. A slow-loris client dripping
 * headers or a body holds a socket for no longer than that. Node checks the first two every
 * `connectionsCheckingInterval` (30 s by default, which would let a drip run 30 s past its deadline).
 */
export function listenGateway(
  fetch: Fetch,
  config: Timeouts & Pick<GatewayConfig, 'GATEWAY_PORT' | 'GATEWAY_HOST'>,
): Promise<Server> {
  const headersTimeout = config.GATEWAY_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(config.GATEWAY_REQUEST_TIMEOUT_MS, headersTimeout);
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        port: config.GATEWAY_PORT,
        hostname: config.GATEWAY_HOST,
        serverOptions: {
          headersTimeout,
          requestTimeout,
          connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
        },
      },
      () => resolve(server as Server),
    ) as Server;
    server.setTimeout(config.GATEWAY_IDLE_TIMEOUT_MS);
    server.once('error', reject);
  });
}

export const serverPort = (server: Server) => (server.address() as AddressInfo).port;
