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
import type { GatewayDeps } from '../../gateway/env.ts';
import { listenGateway, serverPort } from '../../gateway/server.ts';
import type { ScoredLead } from '../../schemas/generated.ts';
import { type Config, loadConfig } from '../../services/lib/config.ts';
import { type LeadRow, leadRow } from '../../services/sink/rows.ts';
import { cleanupIsolated, isolatedConfig } from './isolated.ts';
import { PLENTY_OF_CREDITS } from './services.ts';

export async function testGateway(label: string, env: Record<string, string> = {}) {
  const uploadDir = mkdtempSync(join(tmpdir(), `leedrush-${label}-`));
  const config = await isolatedConfig(label, GatewayConfig, gatewayEnv(uploadDir, env));
  const gateway = await gatewayApp(config);
  return {
    ...gateway,
    async close(): Promise<void> {
      const keys = await gateway.deps.redis.keys(`${config.LEEDRUSH_PREFIX}:*`);
      if (keys.length) await gateway.deps.redis.del(...keys);
      await gateway.disconnect();
      rmSync(uploadDir, { recursive: true, force: true });
      await cleanupIsolated(config);
    },
  };
}

function gatewayEnv(uploadDir: string, env: Record<string, string | undefined>) {
  return {
    ...process.env,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    UPLOAD_DIR: uploadDir,
    BILLING_PLAN_CREDITS: PLENTY_OF_CREDITS,
    ...env,
  };
}

/**
 * A gateway on a prefix someone else set up and cleans up (a pipeline run's): its requests see that
 * prefix's batches, ledger and ClickHouse database. `disconnect()` closes only its own connections.
 */
export async function gatewayOnPrefix(base: Config, uploadDir: string, env: Record<string, string> = {}) {
  return gatewayApp(
    loadConfig(
      GatewayConfig,
      gatewayEnv(uploadDir, {
        ...env,
        LEEDRUSH_PREFIX: base.LEEDRUSH_PREFIX,
        CLICKHOUSE_DATABASE: base.CLICKHOUSE_DATABASE,
      }),
    ),
  );
}

async function gatewayApp(config: GatewayConfig) {
  const deps = await createDeps(config);
  const { app } = createApp(deps);

  async function disconnect(): Promise<void> {
    deps.redis.disconnect();
    await deps.publisher.disconnect();
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

  /** The app behind a real HTTP server on a free loopback port, with the gateway's own server settings. */
  async function listen() {
    const server = await listenGateway(app.fetch, { ...config, GATEWAY_PORT: 0, GATEWAY_HOST: '127.0.0.1' });
    const port = serverPort(server);
    return {
      server,
      port,
      url: `http://127.0.0.1:${port}`,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  return { app, config, deps, disconnect, json, signUp, upload, listen };
}

/**
 * The gateway as an HTTP server on a free loopback port, on the prefix and database of `config` (an
 * isolated pipeline run's, say), for clients that need a real address: a browser, a shell script.
 * `close()` stops it and its connections; the prefix's data is the caller's to clean up.
 */
export async function serveGateway(config: Config, env: Record<string, string> = {}) {
  const gatewayConfig = loadConfig(GatewayConfig, {
    ...process.env,
    LEEDRUSH_PREFIX: config.LEEDRUSH_PREFIX,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const deps = await createDeps(gatewayConfig);
  const { app } = createApp(deps);
  const server = await listenGateway(app.fetch, {
    ...gatewayConfig,
    GATEWAY_PORT: 0,
    GATEWAY_HOST: '127.0.0.1',
  });
  const port = serverPort(server);
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await deps.publisher.disconnect();
      await deps.advanced.close();
      await Promise.all([deps.clickhouse.close(), deps.clickhouseExport.close()]);
      deps.redis.disconnect();
    },
  };
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

/**
 * A batch of `rows` scoredLead rows of the account in ClickHouse as the sink writes them (each twice, as a
 * redelivery would), counted in the tracker: completed, or one row short of it. `row` may rewrite a
 * stored row (hostile values no pipeline phase would let through, say).
 */
export async function storedBatch(
  deps: Pick<GatewayDeps, 'batches' | 'clickhouse'>,
  accountId: string,
  rows: number,
  options: { complete?: boolean; row?: (row: LeadRow, i: number) => LeadRow } = {},
): Promise<string> {
  const batch = await deps.batches.create(
    {
      account_id: accountId,
      filename: 'my leads.csv',
      file_path: '/uploads/x.csv',
      source: 'csv',
      rows_total: rows,
    },
    null,
  );
  if (!batch) throw new Error('not created');
  const leads = Array.from({ length: rows }, (_, i) => scoredLead(accountId, batch.batch_id, i));
  for (const version of [1, 2]) {
    await deps.clickhouse.insert({
      table: 'leads',
      values: leads.map((l, i) => (options.row ?? ((r) => r))(leadRow(l, Date.now(), version), i)),
      format: 'JSONEachRow',
    });
  }
  const done = options.complete === false ? rows - 1 : rows;
  for (let i = 0; i < done; i++) {
    const status = (RESULT_STATUSES[i % 4] as string).toLowerCase() as 'qualified';
    await deps.batches.recordTerminal(batch.batch_id, accountId, i, status);
  }
  return batch.batch_id;
}
