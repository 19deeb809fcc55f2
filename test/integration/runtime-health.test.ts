import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BaseConfig, loadConfig } from '../../services/lib/config.ts';
import { createLogger } from '../../services/runtime/logger.ts';
import { runPhaseService } from '../../services/runtime/runner.ts';
import { waitFor } from '../fixtures/runtime/harness.ts';
import { passthrough } from '../fixtures/runtime/passthrough-phase.ts';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('runtime /health', () => {
  it('answers 503 with the connection error while the broker is unreachable', async () => {
    const config = loadConfig(BaseConfig, {
      ...process.env,
      KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`,
      LEEDRUSH_PREFIX: 'rt_unreachable',
    });
    const service = await runPhaseService(passthrough, {
      config,
      handleSignals: false,
      log: createLogger('health-test', 'silent'),
    });
    try {
      const url = `http://127.0.0.1:${service.port}/health`;
      let body: Record<string, unknown> = {};
      await waitFor(
        'a connection error in /health',
        async () => {
          const res = await fetch(url);
          expect(res.status).toBe(503);
          body = (await res.json()) as Record<string, unknown>;
          return typeof body.last_error === 'string';
        },
        60_000,
        250,
      );
      expect(body).toMatchObject({ healthy: false, status: 'disconnected', connected: false });
      expect(String(body.last_error)).toMatch(/ECONNREFUSED|Connection error|connect/i);
      const metrics = await fetch(`http://127.0.0.1:${service.port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('leedrush_runtime_consumed_total');
    } finally {
      await service.stop();
    }
  });
});
