/**
 * Which addresses a webhook may reach. Only globally routed unicast passes: private, loopback,
 * link-local (cloud metadata at 169.254.169.254 included), CGNAT, multicast, unspecified, unique-local,
 * reserved and the IPv6 forms that embed an IPv4 address (6to4, Teredo, NAT64, IPv4-compatible) are refused, and an
 * IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
import { lookup, Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * ipaddr.js calls the deprecated IPv4-compatible form (::a.b.c.d, RFC 4291 §2.5.5.1) plain unicast;
 * it carries an IPv4 address (`http://[::127.0.0.1]/` is `[::7f00:1]`) and is never routed publicly.
 */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return false;
  return parsed.range() === 'unicast';
}

export interface ResolvedTarget {
  url: URL;
  /** The address checked and to connect to: connecting to it (not re-resolving) defeats DNS rebinding. */
  address: string;
  family: 4 | 6;
}

export type TargetCheck = { ok: true; target: ResolvedTarget } | { ok: false; reason: string };

export interface TargetPolicy {
  /** Host names (as written in URLs, lower case) exempt from the address check: development only. */
  allowedHosts: readonly string[];
  resolveTimeoutMs?: number;
  /** Resolver, for tests that need answers no real DNS gives; default: the system's. */
  resolve?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

const systemResolve = (host: string) => lookup(host, { all: true, verbatim: true });

type PolicyConfig = { WEBHOOK_ALLOWED_HOSTS: string[]; WEBHOOK_DNS_SERVERS: string[] };
const policies = new WeakMap<PolicyConfig, TargetPolicy>();

/** The policy of a configuration (one per config object): its allow-list, its resolvers if it names any. */
export function targetPolicy(config: PolicyConfig): TargetPolicy {
  const known = policies.get(config);
  if (known) return known;
  const policy: TargetPolicy = { allowedHosts: config.WEBHOOK_ALLOWED_HOSTS };
  policies.set(config, policy);
  if (config.WEBHOOK_DNS_SERVERS.length === 0) return policy;
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers(config.WEBHOOK_DNS_SERVERS);
  policy.resolve = async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const answers = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (answers.length === 0) throw v4.status === 'rejected' ? v4.reason : new Error('no address');
    return answers;
  };
  return policy;
}

/** The URL's syntax alone: http(s), a host, no credentials. */
export function checkUrlSyntax(raw: string): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'must be http or https' };
  if (!url.hostname) return { ok: false, reason: 'has no host' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  return { ok: true, url };
}

/**
 * Resolves the URL's host and checks every address it has (one private answer among public ones is
 * enough to refuse: a client may pick any of them). Called at registration and before every attempt.
 */
export async function checkTarget(raw: string, policy: TargetPolicy): Promise<TargetCheck> {
  const syntax = checkUrlSyntax(raw);
  if (!syntax.ok) return syntax;
  const { url } = syntax;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  let answers: Array<{ address: string; family: number }>;
  if (ipaddr.isValid(host)) answers = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  else {
    try {
      answers = await withTimeout((policy.resolve ?? systemResolve)(host), policy.resolveTimeoutMs ?? 5_000);
    } catch (err) {
      return { ok: false, reason: `host ${host} does not resolve (${(err as Error).message})` };
    }
  }
  const first = answers[0];
  if (!first) return { ok: false, reason: `host ${host} has no address` };
  if (!policy.allowedHosts.includes(host)) {
    const refused = answers.find((a) => !isPublicAddress(a.address));
    if (refused)
      return { ok: false, reason: `host ${host} resolves to non-public address ${refused.address}` };
  }
  return { ok: true, target: { url, address: first.address, family: first.family === 6 ? 6 : 4 } };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
