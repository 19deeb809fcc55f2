import type { Resolver } from 'node:dns/promises';
import type { AnswerCache } from './answer-cache.ts';

/**
 * Where mail for a domain goes, per RFC 5321 §5.1: its MX hosts by preference; without MX records the
 * domain itself (implicit MX) when it has an address; nowhere with a null MX (RFC 7505), when the
 * domain does not exist, or when it has neither MX nor address.
 */
export type MailRoute =
  | { kind: 'mx'; hosts: string[] }
  | { kind: 'implicit_mx'; hosts: string[] }
  | { kind: 'null_mx' }
  | { kind: 'nxdomain' }
  | { kind: 'no_mail_host' }
  /**
   * Timeout, SERVFAIL, refused...: says nothing about the domain, and is never cached. `passing`: a
   * failure that asking again may end (a lost reply, a server failing for now), not a resolver that
   * cannot be reached at all (embedded mode offline).
   */
  | { kind: 'unresolved'; reason: string; passing: boolean };

/** The calls this module makes on a node:dns/promises Resolver. */
export type DnsClient = Pick<Resolver, 'resolveMx' | 'resolve4' | 'resolve6'>;

export type TtlPolicy = {
  minS: number;
  maxS: number;
  /** node:dns gives no TTL for MX answers. */
  mxS: number;
  negativeS: number;
};

type Answer<T> = { ok: true; value: T; ttlS: number } | { ok: false; code: string };

/** Outcomes that describe the domain; anything else is a failure to ask. */
const NXDOMAIN = 'ENOTFOUND';
const NODATA = 'ENODATA';
const PASSING = new Set(['ETIMEOUT', 'ESERVFAIL']);

type Looked<T> = { value: T; ttlS: number | null };
type AddressAnswer = { addresses: string[]; nxdomain: boolean } | { unresolved: string };

export class MailRouteResolver {
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dns: DnsClient,
    private readonly cache: AnswerCache,
    private readonly ttl: TtlPolicy,
    /** Hard bound on one query, on top of the resolver's own timeout × tries. */
    private readonly queryDeadlineMs: number,
  ) {}

  route(domain: string): Promise<MailRoute> {
    return this.cached(`route:${domain}`, () => this.lookupRoute(domain));
  }

  /** Addresses of an MX host, IPv4 first (for the SMTP probe); empty when it has none. */
  async addresses(host: string): Promise<string[] | { unresolved: string }> {
    const a = await this.cached(`addr:${host}`, () => this.lookupAddresses(host));
    return 'unresolved' in a ? a : a.addresses;
  }

  /**
   * In-process cache, else one in-flight (Redis, then DNS) lookup per key, so a burst of leads at one
   * domain costs one Redis read and at most one DNS query.
   */
  private cached<T>(key: string, lookup: () => Promise<Looked<T>>): Promise<T> {
    const local = this.cache.getLocal<T>(key);
    if (local !== undefined) return Promise.resolve(local);
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = (async () => {
      const shared = await this.cache.getShared<T>(key);
      if (shared !== undefined) return shared;
      const { value, ttlS } = await lookup();
      if (ttlS !== null) await this.cache.set(key, value, this.clamp(ttlS));
      return value;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private clamp(ttlS: number): number {
    return Math.min(this.ttl.maxS, Math.max(this.ttl.minS, ttlS));
  }

  private async lookupRoute(domain: string): Promise<Looked<MailRoute>> {
    const mx = await this.ask(
      () => this.dns.resolveMx(domain),
      () => this.ttl.mxS,
    );
    if (mx.ok) {
      // RFC 7505: "." (the root, '' in node:dns) as exchange means "no mail"; it must stand alone,
      // so next to real hosts it is ignored.
      const real = mx.value.filter((r) => r.exchange !== '' && r.exchange !== '.');
      if (real.length === 0) return { value: { kind: 'null_mx' }, ttlS: mx.ttlS };
      const byPreference = real.sort((a, b) => a.priority - b.priority).map((r) => r.exchange.toLowerCase());
      return { value: { kind: 'mx', hosts: [...new Set(byPreference)] }, ttlS: mx.ttlS };
    }
    if (mx.code === NXDOMAIN) return { value: { kind: 'nxdomain' }, ttlS: this.ttl.negativeS };
    if (mx.code !== NODATA) return unresolved(`MX lookup failed: ${mx.code}`, mx.code);

    const addr = await this.lookupAddresses(domain);
    const a = addr.value;
    if ('unresolved' in a) return unresolved(`address lookup failed: ${a.unresolved}`, a.unresolved);
    if (a.nxdomain) return { value: { kind: 'nxdomain' }, ttlS: addr.ttlS };
    if (a.addresses.length === 0) return { value: { kind: 'no_mail_host' }, ttlS: addr.ttlS };
    return { value: { kind: 'implicit_mx', hosts: [domain] }, ttlS: addr.ttlS };
  }

  /** A records, else AAAA; the TTL is the smallest of the answer's records. */
  private async lookupAddresses(host: string): Promise<Looked<AddressAnswer>> {
    const minTtl = (records: { ttl: number }[]) => Math.min(...records.map((r) => r.ttl));
    for (const query of [
      () => this.dns.resolve4(host, { ttl: true }),
      () => this.dns.resolve6(host, { ttl: true }),
    ]) {
      const a = await this.ask(query, minTtl);
      if (a.ok) return { value: { addresses: a.value.map((r) => r.address), nxdomain: false }, ttlS: a.ttlS };
      if (a.code === NXDOMAIN) return { value: { addresses: [], nxdomain: true }, ttlS: this.ttl.negativeS };
      if (a.code !== NODATA) return { value: { unresolved: a.code }, ttlS: null };
    }
    return { value: { addresses: [], nxdomain: false }, ttlS: this.ttl.negativeS };
  }

  /** One query under the hard deadline; DNS error codes become values. */
  private async ask<T>(query: () => Promise<T>, ttlOf: (v: T) => number): Promise<Answer<T>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Answer<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, code: 'ETIMEOUT' }), this.queryDeadlineMs);
    });
    const answer = query().then(
      (value): Answer<T> => ({ ok: true, value, ttlS: ttlOf(value) }),
      (err: NodeJS.ErrnoException): Answer<T> => ({ ok: false, code: String(err.code ?? err.message) }),
    );
    try {
      return await Promise.race([answer, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function unresolved(reason: string, code: string): Looked<MailRoute> {
  return { value: { kind: 'unresolved', reason, passing: PASSING.has(code) }, ttlS: null };
}
