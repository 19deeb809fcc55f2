import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsServer, type DnsZone, startDnsServer } from '../support/dns-server.ts';
import { startIndexedDnsServer } from '../support/indexed-dns.ts';
import { uploadZone } from '../support/pipeline.ts';

// The bench's indexed server stands in for dnsmasq on large zones: it must answer every question as
// dnsmasq does, or the bench's outcome counts would change with the server.
const zone: DnsZone = {
  ...uploadZone('a@alpha.com b@beta.io c@gamma.org d@delta.net e@eps.co f@zeta.com g@eta.com n@nu.com'),
  a: [{ name: 'www.alpha.com', address: '192.0.2.7' }],
};
zone.txt = [
  ...(zone.txt ?? []),
  { name: 'alpha.com', text: 'v=spf1 include:_spf.google.com ~all' },
  { name: 'long.leedrush.test', text: 'x'.repeat(300) },
];

let dnsmasq: DnsServer;
let indexed: DnsServer;

beforeAll(async () => {
  [dnsmasq, indexed] = await Promise.all([startDnsServer(zone), startIndexedDnsServer(zone)]);
});

afterAll(async () => {
  await Promise.all([dnsmasq?.stop(), indexed?.stop()]);
});

async function ask(server: DnsServer, name: string, type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'ANY') {
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([server.address]);
  try {
    return { answer: await resolver.resolve(name, type) };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code };
  }
}

describe('indexed DNS server', () => {
  it('answers every kind of question exactly as dnsmasq does for the same zone', async () => {
    expect(zone.nullMx?.length).toBeGreaterThan(0);
    const names = [
      ...(zone.mx ?? []).map((m) => m.domain),
      ...(zone.nullMx ?? []),
      'ALPHA.com',
      'mx.alpha.com',
      'www.alpha.com',
      'not-in-the-upload.com',
      'leedrush.test',
      'long.leedrush.test',
      'nobody.leedrush.test',
    ];
    const seen = new Set<string>();
    for (const name of names) {
      for (const type of ['A', 'AAAA', 'MX', 'TXT', 'ANY'] as const) {
        const [want, got] = await Promise.all([ask(dnsmasq, name, type), ask(indexed, name, type)]);
        expect({ name, type, ...got }).toEqual({ name, type, ...want });
        seen.add(want.error ?? 'answer');
      }
    }
    // The zone covers every outcome a resolver can meet here.
    expect([...seen].sort()).toEqual(['ENODATA', 'ENOTFOUND', 'EREFUSED', 'answer']);
    expect(await indexed.queries('alpha.com', 'MX')).toBe(2);
  });
});
