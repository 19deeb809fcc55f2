/**
 * The sandbox provider server: Apollo, Clearbit, Hunter and Snov request/response shapes on one port,
 * deterministic data (./data.ts), auth checked like the real APIs, and faults on demand per provider
 * (latency, random 5xx, bursts of 5xx, 429 with Retry-After, down).
 *
 *   tsx services/enrich/sandbox/server.ts --port 8765 [--latency 50]
 *
 * Admin: POST /__sandbox/config {"apollo": {"latency_ms": 50, "fail_next": 3}, ...}
 *        GET /__sandbox/stats (requests per provider and endpoint), POST /__sandbox/reset
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { PROVIDERS, type ProviderName } from '../types.ts';
import {
  apolloOrganization,
  apolloPerson,
  clearbitCompany,
  clearbitPerson,
  clearbitQueued,
  hunterDomainSearch,
  hunterVerifier,
  snovProfile,
  snovVerification,
} from './shapes.ts';

/** The credentials the sandbox accepts; the local stack writes the same values into `.stack/env`. */
export const SANDBOX_KEYS = {
  apollo: 'sandbox-apollo-key',
  clearbit: 'sk_sandbox_clearbit',
  hunter: 'sandbox-hunter-key',
  snovClientId: 'sandbox-snov-id',
  snovClientSecret: 'sandbox-snov-secret',
} as const;

/**
 * The settings (EnrichConfig keys) that opt a process into the sandbox providers at `url`: what tests,
 * benchmarks and `leedrush run --sandbox` set. Nothing else turns the sandbox on (provider-mode.ts).
 */
export function sandboxEnv(url: string): Record<string, string> {
  return { ENRICH_SANDBOX: 'true', ENRICH_SANDBOX_URL: url };
}

/** Settings that point every adapter at a sandbox running at `url`, with the keys it accepts. */
export function sandboxProviderSettings(url: string) {
  return {
    APOLLO_BASE_URL: url,
    APOLLO_API_KEY: SANDBOX_KEYS.apollo,
    CLEARBIT_PERSON_URL: url,
    CLEARBIT_COMPANY_URL: url,
    CLEARBIT_API_KEY: SANDBOX_KEYS.clearbit,
    HUNTER_BASE_URL: url,
    HUNTER_API_KEY: SANDBOX_KEYS.hunter,
    SNOV_BASE_URL: url,
    SNOV_CLIENT_ID: SANDBOX_KEYS.snovClientId,
    SNOV_CLIENT_SECRET: SANDBOX_KEYS.snovClientSecret,
  };
}

const Fault = z.object({
  /** Added to every answer. */
  latency_ms: z.number().int().nonnegative(),
  /** Share of requests answered 500, drawn at random. */
  error_rate: z.number().min(0).max(1),
  /** The next N requests are answered 503 (a burst), then service resumes. */
  fail_next: z.number().int().nonnegative(),
  /** The next N requests are answered 429 with Retry-After. */
  throttle_next: z.number().int().nonnegative(),
  /** Retry-After value in seconds (sent as an HTTP date when retry_after_date is set). */
  retry_after_s: z.number().int().nonnegative(),
  retry_after_date: z.boolean(),
  /** Every request answered 503 until cleared. */
  down: z.boolean(),
});
export type Fault = z.infer<typeof Fault>;
/** A change to some providers' faults: only the fields named change. */
export const FaultPatch = z.partialRecord(z.enum(PROVIDERS), Fault.partial().strict());
export type FaultPatch = z.infer<typeof FaultPatch>;

const noFault = (latency_ms: number): Fault => ({
  latency_ms,
  error_rate: 0,
  fail_next: 0,
  throttle_next: 0,
  retry_after_s: 1,
  retry_after_date: false,
  down: false,
});

export interface SandboxState {
  faults: Record<ProviderName, Fault>;
  /** provider → endpoint → requests that reached it (including faulted and unauthorised ones). */
  requests: Record<ProviderName, Record<string, number>>;
  snovTokens: Set<string>;
  snovQueued: Set<string>;
  defaultLatencyMs: number;
}

const freshFaults = (latency = 0) =>
  Object.fromEntries(PROVIDERS.map((p) => [p, noFault(latency)])) as Record<ProviderName, Fault>;

export function createSandboxState(defaultLatencyMs = 0): SandboxState {
  return {
    faults: freshFaults(defaultLatencyMs),
    requests: Object.fromEntries(PROVIDERS.map((p) => [p, {}])) as SandboxState['requests'],
    snovTokens: new Set(),
    snovQueued: new Set(),
    defaultLatencyMs,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the request, waits the configured latency and returns a fault response when one is due. */
async function injectFault(c: Context, state: SandboxState, provider: ProviderName, endpoint: string) {
  const byEndpoint = state.requests[provider];
  byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + 1;
  const f = state.faults[provider];
  if (f.latency_ms > 0) await sleep(f.latency_ms);
  if (f.down) return c.json({ error: `${provider} sandbox is down` }, 503);
  if (f.throttle_next > 0) {
    f.throttle_next--;
    const retryAfter = f.retry_after_date
      ? new Date(Date.now() + f.retry_after_s * 1000).toUTCString()
      : String(f.retry_after_s);
    c.header('Retry-After', retryAfter);
    return c.json(throttleBody(provider), 429);
  }
  if (f.fail_next > 0) {
    f.fail_next--;
    return c.json({ error: 'Service temporarily unavailable' }, 503);
  }
  if (f.error_rate > 0 && Math.random() < f.error_rate)
    return c.json({ error: 'Internal server error' }, 500);
  return null;
}

function throttleBody(provider: ProviderName) {
  switch (provider) {
    case 'apollo':
      return { message: 'The maximum number of api calls allowed for this endpoint has been reached.' };
    case 'clearbit':
      return { error: { type: 'rate_limit', message: 'Rate limit exceeded.' } };
    case 'hunter':
      return {
        errors: [{ id: 'too_many_requests', code: 429, details: 'You have reached the rate limit.' }],
      };
    case 'snov':
      return { success: false, message: 'Too many requests' };
  }
}

const bearer = (c: Context) => /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? null;

/** Clearbit accepts the key as a Bearer token or as the Basic-auth user name. */
function clearbitKey(c: Context): string | null {
  const token = bearer(c);
  if (token) return token;
  const basic = /^Basic\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  return basic ? (Buffer.from(basic, 'base64').toString().split(':')[0] ?? null) : null;
}

async function formOrQuery(c: Context): Promise<URLSearchParams> {
  const params = new URLSearchParams(new URL(c.req.url).search);
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await c.req.text())) params.append(k, v);
  } else if (type.includes('application/json')) {
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') params.append(k, v);
  }
  return params;
}

export function createSandboxApp(state: SandboxState): Hono {
  const app = new Hono();

  // ---- Apollo: X-Api-Key header
  const apolloAuth = (c: Context) =>
    c.req.header('x-api-key') === SANDBOX_KEYS.apollo
      ? null
      : c.json({ error: 'Invalid access credentials.', error_code: 'INVALID_API_KEY' }, 401);

  app.post('/api/v1/people/match', async (c) => {
    const fault = await injectFault(c, state, 'apollo', 'people_match');
    if (fault) return fault;
    const denied = apolloAuth(c);
    if (denied) return denied;
    const email = (await formOrQuery(c)).get('email');
    if (!email?.includes('@')) return c.json({ person: null, request_id: randomBytes(6).toString('hex') });
    return c.json({ person: apolloPerson(email), request_id: randomBytes(6).toString('hex') });
  });

  app.get('/api/v1/organizations/enrich', async (c) => {
    const fault = await injectFault(c, state, 'apollo', 'organizations_enrich');
    if (fault) return fault;
    const denied = apolloAuth(c);
    if (denied) return denied;
    const domain = c.req.query('domain');
    if (!domain) return c.json({ error: 'domain is required' }, 422);
    const organization = apolloOrganization(domain);
    return organization ? c.json({ organization }) : c.json({});
  });

  // ---- Clearbit: secret key as Bearer token or Basic user
  const clearbitAuth = (c: Context) =>
    clearbitKey(c) === SANDBOX_KEYS.clearbit
      ? null
      : c.json({ error: { type: 'auth_required', message: 'API key is invalid or missing.' } }, 401);

  app.get('/v2/combined/find', async (c) => {
    const fault = await injectFault(c, state, 'clearbit', 'combined_find');
    if (fault) return fault;
    const denied = clearbitAuth(c);
    if (denied) return denied;
    const email = c.req.query('email');
    if (!email?.includes('@'))
      return c.json({ error: { type: 'email_invalid', message: 'Invalid email.' } }, 422);
    if (clearbitQueued(email)) return c.json({ error: { type: 'queued', message: 'Lookup queued.' } }, 202);
    const person = clearbitPerson(email);
    const company = clearbitCompany(email.split('@')[1] ?? '');
    if (!person && !company)
      return c.json({ error: { type: 'unknown_record', message: 'Unknown email.' } }, 404);
    return c.json({ person, company });
  });

  app.get('/v2/companies/find', async (c) => {
    const fault = await injectFault(c, state, 'clearbit', 'company_find');
    if (fault) return fault;
    const denied = clearbitAuth(c);
    if (denied) return denied;
    const domain = c.req.query('domain');
    if (!domain) return c.json({ error: { type: 'domain_invalid', message: 'Invalid domain.' } }, 422);
    const company = clearbitCompany(domain);
    return company
      ? c.json(company)
      : c.json({ error: { type: 'unknown_record', message: 'Unknown domain.' } }, 404);
  });

  // ---- Hunter: api_key query parameter (or X-API-KEY header)
  const hunterAuth = (c: Context) =>
    (c.req.query('api_key') ?? c.req.header('x-api-key')) === SANDBOX_KEYS.hunter
      ? null
      : c.json(
          { errors: [{ id: 'authentication_failed', code: 401, details: 'No user found for the API key' }] },
          401,
        );

  app.get('/v2/email-verifier', async (c) => {
    const fault = await injectFault(c, state, 'hunter', 'email_verifier');
    if (fault) return fault;
    const denied = hunterAuth(c);
    if (denied) return denied;
    const email = c.req.query('email');
    if (!email?.includes('@')) {
      return c.json(
        { errors: [{ id: 'wrong_params', code: 400, details: 'You must provide a valid email' }] },
        400,
      );
    }
    return c.json(hunterVerifier(email));
  });

  app.get('/v2/domain-search', async (c) => {
    const fault = await injectFault(c, state, 'hunter', 'domain_search');
    if (fault) return fault;
    const denied = hunterAuth(c);
    if (denied) return denied;
    const domain = c.req.query('domain');
    if (!domain) {
      return c.json(
        { errors: [{ id: 'wrong_params', code: 400, details: 'You must provide a domain' }] },
        400,
      );
    }
    return c.json(hunterDomainSearch(domain));
  });

  // ---- Snov: OAuth client credentials, then Bearer
  app.post('/v1/oauth/access_token', async (c) => {
    const fault = await injectFault(c, state, 'snov', 'token');
    if (fault) return fault;
    const form = await formOrQuery(c);
    const valid =
      form.get('grant_type') === 'client_credentials' &&
      form.get('client_id') === SANDBOX_KEYS.snovClientId &&
      form.get('client_secret') === SANDBOX_KEYS.snovClientSecret;
    if (!valid)
      return c.json({ error: 'invalid_client', error_description: 'Client authentication failed' }, 401);
    const token = randomBytes(20).toString('hex');
    state.snovTokens.add(token);
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
  });

  const snovAuth = (c: Context) =>
    state.snovTokens.has(bearer(c) ?? '')
      ? null
      : c.json({ success: false, message: 'The access token is invalid or expired' }, 401);

  app.post('/v1/add-emails-to-verification', async (c) => {
    const fault = await injectFault(c, state, 'snov', 'add_verification');
    if (fault) return fault;
    const denied = snovAuth(c);
    if (denied) return denied;
    const emails = (await formOrQuery(c)).getAll('emails[]');
    const out: Record<string, { sent: boolean }> = {};
    for (const email of emails) {
      state.snovQueued.add(email.toLowerCase());
      out[email] = { sent: true };
    }
    return c.json(out);
  });

  app.post('/v1/get-emails-verification-status', async (c) => {
    const fault = await injectFault(c, state, 'snov', 'verification_status');
    if (fault) return fault;
    const denied = snovAuth(c);
    if (denied) return denied;
    const out: Record<string, unknown> = {};
    for (const email of (await formOrQuery(c)).getAll('emails[]')) {
      out[email] = state.snovQueued.has(email.toLowerCase())
        ? snovVerification(email)
        : { status: { identifier: 'not_verified', description: 'Email was not added to verification' } };
    }
    return c.json(out);
  });

  app.post('/v1/get-profile-by-email', async (c) => {
    const fault = await injectFault(c, state, 'snov', 'profile_by_email');
    if (fault) return fault;
    const denied = snovAuth(c);
    if (denied) return denied;
    const email = (await formOrQuery(c)).get('email');
    if (!email?.includes('@')) return c.json({ success: false, message: 'Invalid email' }, 400);
    return c.json(snovProfile(email));
  });

  // ---- Admin
  app.post('/__sandbox/config', async (c) => {
    const parsed = FaultPatch.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ detail: parsed.error.message }, 400);
    for (const [provider, patch] of Object.entries(parsed.data)) {
      Object.assign(state.faults[provider as ProviderName], patch);
    }
    return c.json(state.faults);
  });
  app.post('/__sandbox/reset', (c) => {
    const fresh = createSandboxState(state.defaultLatencyMs);
    state.faults = fresh.faults;
    state.requests = fresh.requests;
    return c.json({ reset: true });
  });
  app.get('/__sandbox/stats', (c) => c.json({ requests: state.requests }));
  app.get('/health', (c) => c.json({ status: 'ok' }));

  return app;
}

export interface RunningSandbox {
  url: string;
  port: number;
  state: SandboxState;
  close(): Promise<void>;
}

/** Starts the sandbox on 127.0.0.1 (a container passes host 0.0.0.0); port 0 picks a free one. */
export async function startSandbox(
  opts: { port?: number; latencyMs?: number; host?: string } = {},
): Promise<RunningSandbox> {
  const state = createSandboxState(opts.latencyMs ?? 0);
  const app = createSandboxApp(state);
  const port = opts.port || (await freePort());
  const server = serve({ fetch: app.fetch, port, hostname: opts.host ?? '127.0.0.1' });
  // Keep idle connections longer than clients pool them, as API gateways do, so a client rarely reuses
  // a socket the server is closing at that instant.
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.SANDBOX_PORT ?? '8765' },
      latency: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const port = Number(values.port);
  const latencyMs = Number(values.latency ?? process.env.SANDBOX_LATENCY_MS ?? 0);
  if (!Number.isInteger(port) || port <= 0 || !Number.isFinite(latencyMs) || latencyMs < 0) {
    process.stderr.write('usage: server.ts --port N [--latency MS] [--host ADDRESS]\n');
    process.exit(64);
  }
  const sandbox = await startSandbox({ port, latencyMs, host: values.host });
  process.stdout.write(`sandbox providers listening on ${sandbox.url}\n`);
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
