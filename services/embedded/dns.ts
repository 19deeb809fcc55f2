import { Resolver } from 'node:dns/promises';
import type { DnsClient } from '../verify/mail-route.ts';

export type DnsReach =
  | { reachable: true; servers: string[] }
  | { reachable: false; servers: string[]; reason: string };

/**
 * Asks the resolver once, within the per-query timeout, for the NS records of a name that must exist
 * (`com` for the Internet; see DNS_CANARY). A resolver that cannot answer it (timeout, refused, or
 * NXDOMAIN from a filtering resolver) would make every real domain look nonexistent, so embedded mode
 * does not trust it for verdicts. NODATA is an answer: the name exists.
 */
export async function probeDns(servers: string[], timeoutMs: number, canary: string): Promise<DnsReach> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers(servers);
  const used = resolver.getServers();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('ETIMEOUT'), timeoutMs + 100);
  });
  const answer = resolver.resolveNs(canary).then(
    () => null,
    (err: NodeJS.ErrnoException) => (err.code === 'ENODATA' ? null : String(err.code ?? err.message)),
  );
  try {
    const failure = await Promise.race([answer, deadline]);
    return failure === null
      ? { reachable: true, servers: used }
      : { reachable: false, servers: used, reason: failure };
  } finally {
    clearTimeout(timer);
    resolver.cancel();
  }
}

/**
 * The DNS client when the resolver cannot reach the Internet: every query fails with this code, so
 * verify says `unknown` ("DNS could not answer") instead of calling real domains nonexistent.
 */
export const UNREACHABLE_CODE = 'EDNSUNREACHABLE';
const unreachable = () =>
  Promise.reject(Object.assign(new Error('DNS unreachable'), { code: UNREACHABLE_CODE }));
export const unreachableDns: DnsClient = {
  resolveMx: unreachable,
  resolve4: unreachable,
  resolve6: unreachable,
} as DnsClient;
