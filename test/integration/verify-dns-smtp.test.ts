import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { StandardizedLead, VerifiedLead } from '../../schemas/generated.ts';
import { UNREACHABLE_CODE, unreachableDns } from '../../services/embedded/dns.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { VerifyConfig } from '../../services/verify/config.ts';
import { createVerifyContext, type VerifyContext } from '../../services/verify/context.ts';
import { DNS_ATTEMPTS, verifyLead } from '../../services/verify/phase.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import {
  KNOWN_MAILBOXES,
  mailTestZone,
  type SmtpServers,
  startSmtpServers,
} from '../support/smtp-servers.ts';

// Real dnsmasq on loopback serving a .test zone, real SMTP servers on 127.0.0.11-14, real Redis.
const TTL_S = 2;
const DNS_TIMEOUT_MS = 300;
const DNS_TRIES = 2;
const SMTP_STEP_MS = 500;
const SMTP_TOTAL_MS = 2_000;
/** Scheduling slack for the "no lead waits longer than the timeouts" bounds. */
const MARGIN_MS = 400;

let dns: DnsServer;
let smtp: SmtpServers;
let redis: Redis;

beforeAll(async () => {
  dns = await startDnsServer(mailTestZone(TTL_S));
  smtp = await startSmtpServers(KNOWN_MAILBOXES);
  redis = new Redis(loadConfig(VerifyConfig).REDIS_URL);
});

afterAll(async () => {
  await dns?.stop();
  await smtp?.stop();
  redis?.disconnect();
});

/** A context as main.ts builds it, on its own Redis key prefix, against the loopback servers. */
function context(overrides: Record<string, string> = {}, keyPrefix = `test:verify:${randomUUID()}:`) {
  const settings = loadConfig(VerifyConfig, {
    ...process.env,
    DNS_SERVERS: dns.address,
    DNS_TIMEOUT_MS: String(DNS_TIMEOUT_MS),
    DNS_TRIES: String(DNS_TRIES),
    DNS_MIN_TTL_S: '1',
    SMTP_PORT: String(smtp.port),
    SMTP_TIMEOUT_MS: String(SMTP_STEP_MS),
    SMTP_TOTAL_TIMEOUT_MS: String(SMTP_TOTAL_MS),
    SMTP_HELO_NAME: 'verify.leedrush.test',
    SMTP_MAIL_FROM: 'probe@leedrush.test',
    ...overrides,
  });
  return { ctx: createVerifyContext(settings, redis, { keyPrefix }), keyPrefix };
}

function lead(email: string | null, accountId = 'acct_1'): StandardizedLead {
  const { meta, lead } = enrichedLead({
    lead_id: `b:${randomUUID()}`,
    account_id: accountId,
    lead: { email, email_display: email },
  });
  return { meta, lead };
}

async function verify(ctx: VerifyContext, email: string): Promise<{ out: VerifiedLead; ms: number }> {
  const started = performance.now();
  const r = await verifyLead(lead(email), ctx);
  const ms = performance.now() - started;
  if (r.kind !== 'ok') throw new Error(`verify did not annotate: ${r.kind}`);
  return { out: r.value, ms };
}

describe('DNS step against dnsmasq (probe off)', () => {
  const dnsBound = DNS_TIMEOUT_MS * DNS_TRIES + 100 + MARGIN_MS;

  it.each([
    ['jane@acme.test', 'deliverable', ['mx.acme.test'], /MX records/],
    ['someone@amail.test', 'deliverable', ['amail.test'], /implicit MX/],
    ['x@nullmx.test', 'undeliverable', [], /null MX/],
    ['x@missing.test', 'invalid_domain', [], /NXDOMAIN/],
    ['x@nomail.test', 'invalid_domain', [], /neither MX nor A/],
    ['x@slow.test', 'unknown', [], /ETIMEOUT/],
  ])('%s → %s', async (email, status, mx, reason) => {
    const { ctx } = context();
    const { out, ms } = await verify(ctx, email);
    expect(out.verification.email_status).toBe(status);
    expect(out.verification.mx_hosts).toEqual(mx);
    expect(out.verification.email_reason).toMatch(reason);
    expect(ms).toBeLessThan(dnsBound);
  });

  it('a lead whose DNS times out is tried again by the runtime, then annotated and kept whole', async () => {
    const { ctx } = context();
    const input = lead('ceo@slow.test');
    // Before the last attempt the timeout is thrown: the runtime retries the lead after its backoff.
    for (let attempt = 0; attempt < DNS_ATTEMPTS - 1; attempt++) {
      await expect(verifyLead(input, ctx, attempt)).rejects.toThrow(/ETIMEOUT.*tried again/);
    }
    // An answer that came says something about the domain: it is never retried.
    const answered = await verifyLead(lead('x@missing.test'), ctx, 0);
    expect(answered.kind === 'ok' && answered.value.verification.email_status).toBe('invalid_domain');
    // Nor is a resolver that cannot be reached at all (embedded mode offline): asking again changes nothing.
    const offline = createVerifyContext(loadConfig(VerifyConfig, process.env), null, { dns: unreachableDns });
    const unreached = await verifyLead(lead('jane@acme.test'), offline, 0);
    expect(unreached.kind === 'ok' && unreached.value.verification.email_reason).toMatch(UNREACHABLE_CODE);
    const r = await verifyLead(input, ctx, DNS_ATTEMPTS - 1);
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') {
      expect(r.value.meta).toEqual(input.meta);
      expect(r.value.lead).toEqual(input.lead);
      expect(r.value.verification.phone_status).toBe('missing');
    }
  });
});

describe('SMTP probe against smtp-server (probe on)', () => {
  const probeBound = SMTP_TOTAL_MS + MARGIN_MS;

  it.each([
    ['jane@acme.test', 'verified_deliverable', /accepted the mailbox/],
    ['nobody@acme.test', 'undeliverable', /550 5\.1\.1/],
    ['anyone@catchall.test', 'accept_all', /catch-all/],
    ['anyone@greylist.test', 'unknown', /451 4\.7\.1/],
    ['anyone@hang.test', 'unknown', /timed out waiting for greeting/],
    ['alice@amail.test', 'verified_deliverable', /accepted the mailbox/],
  ])('%s → %s', async (email, status, reason) => {
    const { ctx } = context({ SMTP_PROBE_ENABLED: 'true' });
    const { out, ms } = await verify(ctx, email);
    expect(out.verification.email_status).toBe(status);
    expect(out.verification.email_reason).toMatch(reason);
    expect(ms).toBeLessThan(probeBound);
  });

  it('a hanging server costs one step timeout, not more', async () => {
    const { ctx } = context({ SMTP_PROBE_ENABLED: 'true' });
    const { ms } = await verify(ctx, 'again@hang.test');
    expect(ms).toBeGreaterThanOrEqual(SMTP_STEP_MS - 50);
    expect(ms).toBeLessThan(SMTP_STEP_MS + MARGIN_MS);
  });

  it('catch-all detection asks for a random mailbox at the same domain', async () => {
    const { ctx } = context({ SMTP_PROBE_ENABLED: 'true' });
    const before = smtp.recipients.acceptAll.length;
    await verify(ctx, 'real.person@catchall.test');
    const asked = smtp.recipients.acceptAll.slice(before);
    expect(asked[0]).toBe('real.person@catchall.test');
    expect(asked[1]).toMatch(/^lr-probe-[0-9a-f]{18}@catchall\.test$/);
  });

  it('probes only for accounts that asked for it when the global switch is off', async () => {
    const { ctx } = context({ SMTP_PROBE_ACCOUNTS: 'acct_probe' });
    const on = await verifyLead(lead('nobody@acme.test', 'acct_probe'), ctx);
    const off = await verifyLead(lead('nobody@acme.test', 'acct_other'), ctx);
    expect(on.kind === 'ok' && on.value.verification.email_status).toBe('undeliverable');
    expect(off.kind === 'ok' && off.value.verification.email_status).toBe('deliverable');
  });

  it('a probe never runs for a domain DNS already ruled out', async () => {
    const { ctx } = context({ SMTP_PROBE_ENABLED: 'true' });
    const before = Object.values(smtp.recipients).flat().length;
    const { out } = await verify(ctx, 'x@nullmx.test');
    expect(out.verification.email_status).toBe('undeliverable');
    expect(Object.values(smtp.recipients).flat().length).toBe(before);
  });
});

describe('DNS answers cached in Redis', () => {
  it('a second lookup, even from a fresh process, is served from Redis', async () => {
    const domain = 'acme.test';
    const before = await dns.queries(domain, 'MX');
    const first = context();
    await verify(first.ctx, 'jane@acme.test');
    // Same key prefix, new context: an empty in-process cache, so only Redis can answer.
    const second = context({}, first.keyPrefix);
    const { out } = await verify(second.ctx, 'john@acme.test');
    expect(out.verification.mx_hosts).toEqual(['mx.acme.test']);
    expect(await dns.queries(domain, 'MX')).toBe(before + 1);
    expect(second.ctx.cache.stats.redisHits).toBe(1);
    expect(await redis.exists(first.ctx.cache.redisKey(`route:${domain}`))).toBe(1);
  });

  it('concurrent leads at one domain ask DNS once', async () => {
    const before = await dns.queries('catchall.test', 'MX');
    const { ctx } = context();
    await Promise.all(Array.from({ length: 20 }, (_, i) => verify(ctx, `p${i}@catchall.test`)));
    expect(await dns.queries('catchall.test', 'MX')).toBe(before + 1);
  });

  it('NXDOMAIN is cached with the negative TTL', async () => {
    const before = await dns.queries('missing.test', 'MX');
    const first = context({ DNS_NEGATIVE_TTL_S: '600' });
    await verify(first.ctx, 'a@missing.test');
    const second = context({ DNS_NEGATIVE_TTL_S: '600' }, first.keyPrefix);
    const { out } = await verify(second.ctx, 'b@missing.test');
    expect(out.verification.email_status).toBe('invalid_domain');
    expect(await dns.queries('missing.test', 'MX')).toBe(before + 1);
    const ttl = await redis.ttl(first.ctx.cache.redisKey('route:missing.test'));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('the TTL of the answer is honoured: the entry expires with the record and DNS is asked again', async () => {
    const before = await dns.queries('amail.test', 'A');
    const { ctx, keyPrefix } = context();
    await verify(ctx, 'x@amail.test');
    const pttl = await redis.pttl(ctx.cache.redisKey('route:amail.test'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(TTL_S * 1000);
    await verify(ctx, 'y@amail.test');
    expect(await dns.queries('amail.test', 'A')).toBe(before + 1);
    await new Promise((r) => setTimeout(r, TTL_S * 1000 + 200));
    // Past the TTL neither level may answer, in this process or a fresh one.
    await verify(ctx, 'z@amail.test');
    await verify(context({}, keyPrefix).ctx, 'w@amail.test');
    expect(await dns.queries('amail.test', 'A')).toBe(before + 2);
  });

  it('timeouts are never cached', async () => {
    const before = await dns.queries('slow.test', 'MX');
    const { ctx } = context();
    await verify(ctx, 'a@slow.test');
    expect(await redis.exists(ctx.cache.redisKey('route:slow.test'))).toBe(0);
    await verify(ctx, 'b@slow.test');
    expect(await dns.queries('slow.test', 'MX')).toBeGreaterThan(before + 1);
  });
});

describe('infrastructure failures', () => {
  it('Redis down: the phase throws so the runtime retries the lead', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const settings = loadConfig(VerifyConfig, { ...process.env, DNS_SERVERS: dns.address });
    const ctx = createVerifyContext(settings, dead, { keyPrefix: 'test:verify:dead:' });
    await expect(verifyLead(lead('jane@acme.test'), ctx)).rejects.toThrow();
    dead.disconnect();
  });
});
