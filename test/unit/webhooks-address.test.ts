import { describe, expect, it } from 'vitest';
import { checkTarget, checkUrlSyntax, isPublicAddress } from '../../services/webhooks/address-guard.ts';

describe('isPublicAddress', () => {
  it.each([
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '127.0.0.1',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::',
    '224.0.0.1',
    'ff02::1',
    '255.255.255.255',
    '2002:7f00:1::1',
    '64:ff9b::7f00:1',
    '::7f00:1',
    '::a00:1',
    '::ffff:0:7f00:1',
    '2001::1',
    'fec0::1',
    '100::1',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '2606:4700::1111', '8.8.8.8', '::ffff:93.184.216.34'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('checkUrlSyntax', () => {
  it.each([
    ['https://hooks.example.com/x?y=1', true],
    ['http://93.184.216.34:8080/', true],
    ['ftp://example.com/', false],
    ['javascript:alert(1)', false],
    ['file:///etc/passwd', false],
    ['http://user:pass@example.com/', false],
    ['example.com/hook', false],
    ['', false],
  ])('%s → %s', (url, ok) => {
    expect(checkUrlSyntax(url).ok).toBe(ok);
  });
});

/** A resolver with fixed answers: what a hostile DNS zone could say. */
const zone: Record<string, string[]> = {
  'public.test': ['93.184.216.34', '2606:4700::1111'],
  'rebind.test': ['93.184.216.34', '127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'mapped.test': ['::ffff:192.168.0.1'],
  'dev.test': ['127.0.0.1'],
};
const resolve = async (host: string) => {
  const answers = zone[host];
  if (!answers) throw new Error(`ENOTFOUND ${host}`);
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const policy = { allowedHosts: ['dev.test'], resolve };

describe('checkTarget', () => {
  it('passes a host whose every address is public, and names the address to connect to', async () => {
    const check = await checkTarget('https://public.test/hook', policy);
    expect(check).toMatchObject({ ok: true, target: { address: '93.184.216.34', family: 4 } });
  });

  it.each([
    'http://rebind.test/x',
    'http://metadata.test/x',
    'http://mapped.test/x',
    'http://127.0.0.1/x',
    'http://[::1]:8080/x',
    'http://[::ffff:7f00:1]/x',
    'http://0x7f000001/x',
    'http://2130706433/x',
    'http://017700000001/x',
    'http://0177.0.0.1/x',
    'http://127.1/x',
    'http://0/x',
    'http://[::127.0.0.1]/x',
    'http://[::]/x',
    'http://nowhere.test/x',
  ])('refuses %s', async (url) => {
    const check = await checkTarget(url, policy);
    expect(check.ok).toBe(false);
  });

  it('lets an allow-listed host through whatever it resolves to', async () => {
    expect(await checkTarget('http://dev.test:9000/x', policy)).toMatchObject({
      ok: true,
      target: { address: '127.0.0.1' },
    });
    expect((await checkTarget('http://dev.test/x', { ...policy, allowedHosts: [] })).ok).toBe(false);
  });

  it('times out a resolver that never answers', async () => {
    const check = await checkTarget('http://slow.test/x', {
      allowedHosts: [],
      resolveTimeoutMs: 50,
      resolve: () => new Promise(() => {}),
    });
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/timed out/) });
  });
});
