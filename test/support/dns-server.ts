import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real DNS server on loopback for tests and benchmarks: Debian's dnsmasq, authoritative-style for
 * one zone (`--local=/<zone>/`: names it has no record for are NXDOMAIN), logging every query so a
 * test can count what reached it. Null MX (RFC 7505) has no dnsmasq option, so it is served as a raw
 * MX record (`--dns-rr`, type 15, preference 0, root exchange). Slow domains are forwarded to a UDP
 * socket that never answers. dnsmasq walks its whole list of MX and TXT records for every query
 * (measured: 20 µs a query with 100 domains, 186 µs with 12,500), so a zone of a large upload's domains
 * costs the bench more than it would cost a real resolver.
 */
export type DnsZone = {
  zone: string;
  /** TTL of every record served (dnsmasq --local-ttl). */
  ttlS: number;
  mx?: { domain: string; host: string; preference: number }[];
  nullMx?: string[];
  /** Host (A) records: MX targets and domains without MX. */
  a?: { name: string; address: string }[];
  /** TXT records: a name that exists without any mail or address record. */
  txt?: { name: string; text: string }[];
  /** Domains whose queries are never answered. */
  slow?: string[];
};

export type DnsServer = {
  port: number;
  /** For DNS_SERVERS / Resolver.setServers. */
  address: string;
  /** Queries received so far, optionally only for one name and type ("MX", "A"...). */
  queries(name?: string, type?: string): Promise<number>;
  stop(): Promise<void>;
};

export function dnsmasqAvailable(): boolean {
  try {
    execFileSync('dnsmasq', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  if (!dnsmasqAvailable()) {
    throw new Error('dnsmasq not found: apt-get install -y dnsmasq-base (the stack installer does it too)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'leedrush-dns-'));
  const blackhole = zone.slow?.length ? await openBlackhole() : null;
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const log = join(dir, 'queries.log');
    writeFileSync(join(dir, 'dnsmasq.conf'), config(zone, port, log, blackhole));
    const child = spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${join(dir, 'dnsmasq.conf')}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (await ready(child, port, zone)) {
      return {
        port,
        address: `127.0.0.1:${port}`,
        // dnsmasq writes its log asynchronously: let the last lines land before counting.
        queries: async (name, type) => {
          await sleep(150);
          return countQueries(log, name, type);
        },
        stop: async () => {
          await stopChild(child);
          blackhole?.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
    if (attempt >= 4) {
      blackhole?.close();
      throw new Error(`dnsmasq did not start: ${stderr.trim()}`);
    }
  }
}

function config(zone: DnsZone, port: number, log: string, blackhole: Socket | null): string {
  const lines = [
    'no-resolv',
    'no-hosts',
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'pid-file=',
    `local=/${zone.zone}/`,
    `local-ttl=${zone.ttlS}`,
    'log-queries',
    `log-facility=${log}`,
  ];
  for (const m of zone.mx ?? []) lines.push(`mx-host=${m.domain},${m.host},${m.preference}`);
  for (const d of zone.nullMx ?? []) lines.push(`dns-rr=${d},15,000000`);
  for (const a of zone.a ?? []) lines.push(`host-record=${a.name},${a.address}`);
  for (const t of zone.txt ?? []) lines.push(`txt-record=${t.name},"${t.text}"`);
  if (blackhole) {
    for (const d of zone.slow ?? []) lines.push(`server=/${d}/127.0.0.1#${blackhole.address().port}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Up when it answers a query for its own zone (NXDOMAIN counts as an answer). */
async function ready(child: ChildProcess, port: number, zone: DnsZone): Promise<boolean> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) return false;
    try {
      await resolver.resolve4(`ready-probe.${zone.zone}`);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return true;
    }
    await sleep(50);
  }
  return false;
}

function countQueries(log: string, name?: string, type?: string): number {
  if (!existsSync(log)) return 0;
  let n = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = / query\[([A-Z0-9]+)\] (\S+) from /.exec(line);
    if (!m || m[2]?.startsWith('ready-probe.')) continue;
    if ((name === undefined || m[2] === name) && (type === undefined || m[1] === type)) n++;
  }
  return n;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Reads and drops every datagram: the upstream of the "slow" domains. */
async function openBlackhole(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', () => {});
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(2_000).then(() => child.kill('SIGKILL'))]);
}
