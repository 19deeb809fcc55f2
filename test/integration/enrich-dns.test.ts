/**
 * DNS technographics against a real DNS server on loopback (dnsmasq, test/support/dns-server.ts):
 * MX and TXT records as a company publishes them, read through node:dns with our servers and timeout.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnrichConfig } from '../../services/enrich/config.ts';
import { createEnrichContext } from '../../services/enrich/context.ts';
import type { LeadInput } from '../../services/enrich/enricher.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { DnsTechnographics } from '../../services/enrich/technographics.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';

let dns: DnsServer;
let sandbox: RunningSandbox;
let redis: Redis;

beforeAll(async () => {
  dns = await startDnsServer({
    zone: 'techno.test',
    ttlS: 0,
    mx: [
      { domain: 'acme.techno.test', host: 'aspmx.l.google.com', preference: 1 },
      { domain: 'acme.techno.test', host: 'alt1.aspmx.l.google.com', preference: 5 },
      { domain: 'globex.techno.test', host: 'globex-test.mail.protection.outlook.com', preference: 0 },
      { domain: 'initech.techno.test', host: 'mx0a-001.pphosted.com', preference: 10 },
    ],
    txt: [
      {
        name: 'acme.techno.test',
        text: 'v=spf1 include:_spf.google.com include:_spf.salesforce.com include:servers.mcsv.net ~all',
      },
      { name: 'acme.techno.test', text: 'atlassian-domain-verification=Zm9vYmFy' },
      { name: 'acme.techno.test', text: 'stripe-verification=c0ffee' },
      {
        name: 'globex.techno.test',
        text: 'v=spf1 include:spf.protection.outlook.com include:mail.zendesk.com -all',
      },
      { name: 'globex.techno.test', text: 'MS=ms44556677' },
      {
        name: 'initech.techno.test',
        text: 'v=spf1 include:sendgrid.net include:7654321.spf02.hubspotemail.net ~all',
      },
    ],
    a: [{ name: 'bare.techno.test', address: '192.0.2.10' }],
    slow: ['slow.example'],
  });
  sandbox = await startSandbox();
  redis = createRedis(loadConfig(EnrichConfig).REDIS_URL, 'enrich-dns-test');
});

afterAll(async () => {
  redis.disconnect();
  await sandbox.close();
  await dns.stop();
});

const resolver = (cacheTtlMs?: number, failureTtlMs?: number) =>
  new DnsTechnographics({ servers: [dns.address], timeoutMs: 500, tries: 1, cacheTtlMs, failureTtlMs });

describe('DnsTechnographics over a real DNS server', () => {
  it('reads the mail provider from MX and the SaaS from SPF and verification records', async () => {
    expect(await resolver().lookup('acme.techno.test')).toEqual({
      mail_provider: 'Google Workspace',
      technologies: ['Atlassian', 'Google Workspace', 'Mailchimp', 'Salesforce', 'Stripe'],
    });
    expect(await resolver().lookup('globex.techno.test')).toEqual({
      mail_provider: 'Microsoft 365',
      technologies: ['Microsoft 365', 'Zendesk'],
    });
    expect(await resolver().lookup('initech.techno.test')).toEqual({
      mail_provider: 'Proofpoint',
      technologies: ['HubSpot', 'Proofpoint', 'SendGrid'],
    });
    expect(await dns.queries('acme.techno.test', 'MX')).toBeGreaterThanOrEqual(1);
    expect(await dns.queries('acme.techno.test', 'TXT')).toBeGreaterThanOrEqual(1);
  });

  it('returns nothing, without error, for a domain without such records or without any', async () => {
    expect(await resolver().lookup('bare.techno.test')).toEqual({ mail_provider: null, technologies: [] });
    expect(await resolver().lookup('nothing.techno.test')).toEqual({ mail_provider: null, technologies: [] });
  });

  it('gives up on an unanswered query after the configured timeout', async () => {
    const t0 = Date.now();
    await expect(resolver().lookup('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});

describe('DnsTechnographics cache', () => {
  const asked = async (domain: string) =>
    (await dns.queries(domain, 'MX')) + (await dns.queries(domain, 'TXT'));

  it('asks once per domain: later and concurrent lookups share the answer, empty answers included', async () => {
    const r = resolver();
    const before = await asked('globex.techno.test');
    const first = await Promise.all(Array.from({ length: 5 }, () => r.lookup('globex.techno.test')));
    expect(await r.lookup('GLOBEX.techno.test')).toEqual(first[0]);
    expect(first.every((f) => f.mail_provider === 'Microsoft 365')).toBe(true);
    expect((await asked('globex.techno.test')) - before).toBe(2);

    const bareBefore = await asked('bare.techno.test');
    await r.lookup('bare.techno.test');
    await r.lookup('bare.techno.test');
    expect((await asked('bare.techno.test')) - bareBefore).toBe(2);
  });

  it('asks again once the answer is older than the TTL, and always when caching is off', async () => {
    const short = resolver(200);
    const before = await asked('initech.techno.test');
    await short.lookup('initech.techno.test');
    await new Promise((r) => setTimeout(r, 300));
    await short.lookup('initech.techno.test');
    expect((await asked('initech.techno.test')) - before).toBe(4);

    const off = resolver(0);
    await off.lookup('initech.techno.test');
    await off.lookup('initech.techno.test');
    expect((await asked('initech.techno.test')) - before).toBe(8);
  });

  it('remembers a failure only briefly: a timed-out domain fails at once, then is asked again', async () => {
    const r = resolver(undefined, 1_500);
    await expect(r.lookup('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    const before = await asked('slow.example');
    const t0 = Date.now();
    await expect(r.lookup('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(100);
    expect(await asked('slow.example')).toBe(before);
    await new Promise((res) => setTimeout(res, 1_600));
    await expect(r.lookup('slow.example')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(await asked('slow.example')).toBeGreaterThan(before);
  });
});

describe('technographics in an enriched lead', () => {
  const lead = (email: string): LeadInput => ({
    email,
    email_status: 'deliverable',
    first_name: null,
    last_name: null,
    full_name: 'Known Person',
    title_normalized: 'CTO',
    company_name: null,
    company_key: null,
    domain: email.split('@')[1] ?? null,
    linkedin_url: 'https://www.linkedin.com/in/known-person',
    phone_e164: null,
    country: null,
    industry: null,
    employees: null,
  });

  it('adds what DNS reveals to the providers’ technologies, and survives a DNS timeout', async () => {
    const cfg = loadConfig(EnrichConfig, {
      ...process.env,
      ...sandboxEnv(sandbox.url),
      LEEDRUSH_PREFIX: `t_enrich_dns_${process.pid}_${Date.now()}`,
    });
    const ctx = createEnrichContext(cfg, redis, { dns: resolver() });
    try {
      const acme = await ctx.enricher.enrich(lead('anna.lee@acme.techno.test'));
      expect(acme.enrichment.technologies).toEqual(
        expect.arrayContaining(['Atlassian', 'Google Workspace', 'Mailchimp', 'Salesforce', 'Stripe']),
      );
      expect(acme.enrichment.field_sources.technologies).toMatch(
        /^(sandbox:(clearbit|apollo_io|hunter_io|snov_io)|dns)$/,
      );

      const slow = await ctx.enricher.enrich(lead('ben.moss@slow.example'));
      expect(slow.enrichment.company_name).not.toBeNull();
    } finally {
      await ctx.close();
    }
  });
});
