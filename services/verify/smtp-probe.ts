import { randomBytes } from 'node:crypto';
import type { ParsedAddress } from './email-syntax.ts';
import { describeReply, SmtpConnection, type SmtpReply, SmtpTimeout } from './smtp-connection.ts';

export type ProbeOptions = {
  port: number;
  heloName: string;
  /** Reverse path; '' sends the null sender <>. */
  mailFrom: string;
  stepTimeoutMs: number;
  totalTimeoutMs: number;
};

export type ProbeStatus = 'verified_deliverable' | 'accept_all' | 'undeliverable' | 'deliverable' | 'unknown';
export type ProbeVerdict = { status: ProbeStatus; reason: string };

/** Resolves an MX host to addresses (through the cached DNS), or says why it could not. */
export type HostResolver = (host: string) => Promise<string[] | { unresolved: string }>;

/**
 * Asks the domain's best MX whether it would accept mail for the address, without sending any:
 * EHLO, MAIL FROM, RCPT TO the address, RCPT TO a random address at the same domain (a server that
 * accepts that one accepts everything, so its "yes" proves nothing), QUIT. Never sends DATA.
 *
 * Verdicts: 250/251 and the random address refused → verified_deliverable; both accepted → accept_all;
 * 550/551/553 on the address (unless the enhanced code says policy, 5.7.x) → undeliverable; 4xx
 * (greylisting, rate limits), other 5xx, a refused sender, a timeout → unknown with the reason.
 * A later MX is tried only when an earlier one cannot be reached at all.
 */
export async function probeMailbox(
  address: ParsedAddress,
  mxHosts: string[],
  resolveHost: HostResolver,
  options: ProbeOptions,
): Promise<ProbeVerdict> {
  const deadline = Date.now() + options.totalTimeoutMs;
  let lastProblem = 'no MX host to probe';
  for (const host of mxHosts) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const addresses = await withinDeadline(resolveHost(host), left);
    if (addresses === null) return unknown(`timed out resolving MX host ${host}`);
    if (!Array.isArray(addresses) || addresses.length === 0) {
      lastProblem = `MX host ${host} has no address${Array.isArray(addresses) ? '' : ` (${addresses.unresolved})`}`;
      continue;
    }
    const attempt = await converse(address, host, addresses[0] as string, deadline, options);
    if (attempt !== 'unreachable') return attempt;
    lastProblem = `MX host ${host} unreachable`;
  }
  return unknown(Date.now() >= deadline ? 'SMTP probe exceeded its total timeout' : lastProblem);
}

async function converse(
  address: ParsedAddress,
  host: string,
  ip: string,
  deadline: number,
  o: ProbeOptions,
): Promise<ProbeVerdict | 'unreachable'> {
  const step = () => Math.max(1, Math.min(o.stepTimeoutMs, deadline - Date.now()));
  let conn: SmtpConnection;
  try {
    conn = await SmtpConnection.open(ip, o.port, step());
  } catch (err) {
    return err instanceof SmtpTimeout ? unknown(`timed out connecting to ${host}`) : 'unreachable';
  }
  try {
    const greeting = await conn.read('greeting', step());
    if (greeting.code !== 220) return unknown(`${host} refused the session: ${describeReply(greeting)}`);

    let hello = await conn.send(`EHLO ${o.heloName}`, 'EHLO reply', step());
    if (hello.code >= 500) hello = await conn.send(`HELO ${o.heloName}`, 'HELO reply', step());
    if (hello.code !== 250) return unknown(`${host} refused EHLO/HELO: ${describeReply(hello)}`);
    const utf8 = address.utf8Local;
    if (utf8 && !advertises(hello, 'SMTPUTF8')) {
      return unknown(`${host} does not support SMTPUTF8, needed for this internationalized address`);
    }

    const sender = await conn.send(
      `MAIL FROM:<${o.mailFrom}>${utf8 ? ' SMTPUTF8' : ''}`,
      'MAIL FROM reply',
      step(),
    );
    if (sender.code !== 250) return unknown(`${host} refused the probe sender: ${describeReply(sender)}`);

    const target = `${address.local}@${address.domain}`;
    const rcpt = await conn.send(`RCPT TO:<${target}>`, 'RCPT TO reply', step());
    const verdict = await judgeRecipient(rcpt, host, () =>
      conn.send(`RCPT TO:<${randomLocalPart()}@${address.domain}>`, 'catch-all RCPT TO reply', step()),
    );
    conn.send('QUIT', 'QUIT reply', Math.min(step(), 500)).catch(() => {});
    return verdict;
  } catch (err) {
    return unknown(`${host}: ${(err as Error).message}`);
  } finally {
    // QUIT is a courtesy: the verdict does not wait for its reply.
    conn.close();
  }
}

async function judgeRecipient(
  rcpt: SmtpReply,
  host: string,
  probeRandom: () => Promise<SmtpReply>,
): Promise<ProbeVerdict> {
  const said = describeReply(rcpt);
  if (rcpt.code === 250 || rcpt.code === 251) {
    const random = await probeRandom();
    if (random.code === 250 || random.code === 251) {
      return { status: 'accept_all', reason: `${host} accepts any recipient at the domain (catch-all)` };
    }
    if (random.code >= 500)
      return { status: 'verified_deliverable', reason: `${host} accepted the mailbox: ${said}` };
    return {
      status: 'deliverable',
      reason: `${host} accepted the mailbox; catch-all check inconclusive: ${describeReply(random)}`,
    };
  }
  if (rcpt.code >= 400 && rcpt.code < 500)
    return unknown(`${host} deferred the recipient (greylisting?): ${said}`);
  const policy = rcpt.enhanced?.startsWith('5.7.') ?? false;
  if ((rcpt.code === 550 || rcpt.code === 551 || rcpt.code === 553) && !policy) {
    return { status: 'undeliverable', reason: `${host} rejected the mailbox: ${said}` };
  }
  return unknown(`${host} refused the recipient for another reason: ${said}`);
}

function advertises(ehlo: SmtpReply, keyword: string): boolean {
  return ehlo.lines.slice(1).some((l) => l.toUpperCase().split(' ')[0] === keyword);
}

/** Long and random enough that no real mailbox has it. */
function randomLocalPart(): string {
  return `lr-probe-${randomBytes(9).toString('hex')}`;
}

function unknown(reason: string): ProbeVerdict {
  return { status: 'unknown', reason };
}

async function withinDeadline<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
