/**
 * A retry scheduled by one dispatcher process is sent by the next one after a SIGKILL: the schedule
 * lives in Redis, not in the process, and the outbox offset was committed long before.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { TOPICS } from '../../services/lib/names.ts';
import { signBody } from '../../services/webhooks/signature.ts';
import { testGateway } from '../support/gateway.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

const gw = await testGateway('whrestart', { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
const requests: Array<{ attempt: string; verified: boolean }> = [];
let secret = '';
const server: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const verified = req.headers['x-leedrush-signature'] === signBody(secret, Buffer.concat(chunks));
    requests.push({ attempt: String(req.headers['x-leedrush-delivery-attempt']), verified });
    res.writeHead(requests.length === 1 ? 503 : 200).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const running: RunningService[] = [];

afterAll(async () => {
  for (const s of running) await s.stop();
  server.closeAllConnections();
  server.close();
  await gw.close();
});

const env = serviceEnv(gw.config, {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  // The retry is due 3 s after the failure: time enough to kill the first process before it.
  WEBHOOK_RETRY_SCHEDULE: '3s',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_LOG_FLUSH_MS: '100',
  // The next process joins the group once the killed one's session ended.
  WEBHOOK_SESSION_TIMEOUT_MS: '6000',
});

async function until(what: string, probe: () => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !probe()) await sleep(50);
  if (!probe()) throw new Error(`timed out waiting for ${what}`);
}

it('sends the retry from the next process after the first was killed', async () => {
  const { token, accountId } = await gw.signUp();
  const res = await gw.json(
    'POST',
    '/webhooks',
    { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: ['topup.completed'] },
    token,
  );
  expect(res.status).toBe(201);
  secret = ((await res.json()) as { secret: string }).secret;

  const first = await startService('webhooks', env);
  running.push(first);
  await gw.deps.publisher.publish(TOPICS.webhooksOutbox, 'WebhookEvent', 'k', [
    {
      event_id: 'topup.completed:ord_1',
      account_id: accountId,
      event: 'topup.completed',
      batch_id: null,
      data_json: '{"credits":1000}',
      occurred_at: Date.now(),
    },
  ]);
  await until('the first attempt', () => requests.length === 1);
  // Let the failed attempt's reschedule reach Redis, then kill without any chance to clean up.
  await sleep(300);
  first.proc.kill('SIGKILL');
  await first.stop();

  running.push(await startService('webhooks', env));
  await until('the retry', () => requests.length === 2);
  await sleep(1_000);
  expect(requests).toEqual([
    { attempt: '1', verified: true },
    { attempt: '2', verified: true },
  ]);
}, 120_000);
