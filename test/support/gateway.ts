/**
 * A gateway app on the real local stack for one test file: its own prefix (topics, Redis keys,
 * ClickHouse database), upload folder and JWT secret. Requests go through `app.request`, the same
 * code path as the HTTP server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import { createApp } from '../../gateway/app.ts';
import { GatewayConfig } from '../../gateway/config.ts';
import { createDeps } from '../../gateway/deps.ts';
import type { ScoredLead } from '../../schemas/generated.ts';
import { cleanupIsolated, isolatedConfig } from './isolated.ts';

export async function testGateway(label: string, env: Record<string, string> = {}) {
  const uploadDir = mkdtempSync(join(tmpdir(), `leedrush-${label}-`));
  const config = await isolatedConfig(label, GatewayConfig, {
    ...process.env,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    UPLOAD_DIR: uploadDir,
    ...env,
  });
  const deps = await createDeps(config);
  const { app } = createApp(deps);

  async function close(): Promise<void> {
    const keys = await deps.redis.keys(`${config.LEEDRUSH_PREFIX}:*`);
    if (keys.length) await deps.redis.del(...keys);
    deps.redis.disconnect();
    await deps.publisher.disconnect();
    rmSync(uploadDir, { recursive: true, force: true });
    await cleanupIsolated(config);
  }

  function json(method: string, path: string, body?: unknown, token?: string) {
    return app.request(`/api${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** Registers and logs in a fresh user; returns its token and ids. */
  async function signUp(email = `u${randomBytes(4).toString('hex')}@example.com`) {
    const password = 'correct horse battery';
    const reg = await json('POST', '/auth/register', { email, password, company: 'Acme' });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
    const { user_id } = (await reg.json()) as { user_id: string };
    const login = await json('POST', '/auth/login', { email, password });
    const { access_token } = (await login.json()) as { access_token: string };
    const user = await deps.accounts.byId(user_id);
    if (!user) throw new Error('user vanished');
    return { token: access_token, userId: user_id, accountId: user.account_id, email, password };
  }

  function upload(token: string, filename: string, content: string | Uint8Array, type = 'text/csv') {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), filename);
    return app.request('/api/upload', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
  }

  return { app, config, deps, close, json, signUp, upload };
}

/** The statuses of scoredLead rows, by row index modulo 4. */
export const RESULT_STATUSES = ['QUALIFIED', 'REJECTED', 'INVALID', 'DUPLICATE'] as const;

/**
 * Row `i` of a scored batch as the sink receives it: status RESULT_STATUSES[i % 4], score 90 - i % 90,
 * duplicates pointing at row 0; row 0's name is a spreadsheet formula (CSV neutralising).
 */
export function scoredLead(accountId: string, batchId: string, i: number): ScoredLead {
  const base = enrichedLead({
    lead_id: `${batchId}:${i}`,
    batch_id: batchId,
    account_id: accountId,
    row_index: i,
    lead: {
      email: `p${i}@acme.io`,
      full_name: i === 0 ? '=HYPERLINK("http://evil","x")' : `Pat Doe${i}`,
      phone_e164: '+12025550199',
      title_normalized: 'VP of Sales',
      company_name: 'Acme',
      domain: 'acme.io',
    },
    enrichment: {
      signals: ['Series B'],
      technologies: ['AWS', 'Salesforce'],
      field_sources: { company_name: 'input', signals: 'clearbit', technologies: 'sandbox:apollo_io' },
    },
  });
  const status = RESULT_STATUSES[i % 4] as (typeof RESULT_STATUSES)[number];
  return {
    ...base,
    dedup: {
      is_duplicate: status === 'DUPLICATE',
      survivor_id: status === 'DUPLICATE' ? `${batchId}:0` : null,
      confidence: 0.97,
      cluster_size: 1,
      filled_from: {},
    },
    score: {
      status,
      score: 90 - (i % 90),
      reasons: [{ factor: 'seniority', contribution: 30 }],
      coverage: 0.8333,
      missing: ['company_size'],
    },
  };
}
