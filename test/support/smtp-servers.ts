import { createServer } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { DnsZone } from './dns-server.ts';

/**
 * Real SMTP servers (npm smtp-server) on loopback, one behaviour each, all on the same port but on
 * different 127.0.0.x addresses — so DNS can point each test domain's MX at one of them and the probe
 * keeps a single configurable SMTP port, as in production.
 */
export const SMTP_HOSTS = {
  /** Accepts every recipient: a catch-all domain. */
  acceptAll: '127.0.0.11',
  /** Knows a few mailboxes and answers 550 5.1.1 for any other. */
  rejectUnknown: '127.0.0.12',
  /** 451 4.7.1 on the first RCPT of each recipient, as greylisting does. */
  greylist: '127.0.0.13',
  /** Accepts the TCP connection and never says a word. */
  hang: '127.0.0.14',
} as const;

/**
 * The .test zone the verify tests serve with dnsmasq: one domain per SMTP behaviour, plus the DNS cases
 * (null MX, address only, nothing but TXT, unanswered). Any other name in .test is NXDOMAIN.
 */
export function mailTestZone(ttlS: number): DnsZone {
  return {
    zone: 'test',
    ttlS,
    mx: [
      { domain: 'acme.test', host: 'mx.acme.test', preference: 10 },
      { domain: 'catchall.test', host: 'mx.catchall.test', preference: 10 },
      { domain: 'greylist.test', host: 'mx.greylist.test', preference: 10 },
      { domain: 'hang.test', host: 'mx.hang.test', preference: 10 },
    ],
    nullMx: ['nullmx.test'],
    a: [
      { name: 'mx.acme.test', address: SMTP_HOSTS.rejectUnknown },
      { name: 'mx.catchall.test', address: SMTP_HOSTS.acceptAll },
      { name: 'mx.greylist.test', address: SMTP_HOSTS.greylist },
      { name: 'mx.hang.test', address: SMTP_HOSTS.hang },
      { name: 'amail.test', address: SMTP_HOSTS.rejectUnknown },
    ],
    txt: [{ name: 'nomail.test', text: 'v=spf1 -all' }],
    slow: ['slow.test'],
  };
}

/** Mailboxes the rejecting server (acme.test, amail.test) knows. */
export const KNOWN_MAILBOXES = ['jane@acme.test', 'alice@amail.test'];

export type SmtpServers = {
  port: number;
  /** RCPT TO addresses each server received, in order. */
  recipients: Record<keyof typeof SMTP_HOSTS, string[]>;
  stop(): Promise<void>;
};

export async function startSmtpServers(knownMailboxes: string[]): Promise<SmtpServers> {
  const known = new Set(knownMailboxes.map((m) => m.toLowerCase()));
  const recipients: SmtpServers['recipients'] = { acceptAll: [], rejectUnknown: [], greylist: [], hang: [] };
  const greylisted = new Set<string>();
  const record = (kind: keyof typeof SMTP_HOSTS) => (a: SMTPServerAddress) =>
    recipients[kind].push(a.address);

  const behaviours: Record<keyof typeof SMTP_HOSTS, () => SMTPServer> = {
    acceptAll: () =>
      server({
        onRcptTo: (a, _s, cb) => {
          record('acceptAll')(a);
          cb();
        },
      }),
    rejectUnknown: () =>
      server({
        onRcptTo: (a, _s, cb) => {
          record('rejectUnknown')(a);
          cb(known.has(a.address.toLowerCase()) ? undefined : smtpError(550, '5.1.1 No such user here'));
        },
      }),
    greylist: () =>
      server({
        onRcptTo: (a, _s, cb) => {
          record('greylist')(a);
          const first = !greylisted.has(a.address);
          greylisted.add(a.address);
          cb(first ? smtpError(451, '4.7.1 Greylisted, please try again later') : undefined);
        },
      }),
    // onConnect that never calls back: the connection is open, the greeting never comes.
    hang: () => server({ onConnect: () => {} }),
  };

  for (let attempt = 0; ; attempt++) {
    const port = await freeTcpPort();
    const started: SMTPServer[] = [];
    try {
      for (const [kind, make] of Object.entries(behaviours) as [
        keyof typeof SMTP_HOSTS,
        () => SMTPServer,
      ][]) {
        const s = make();
        await listen(s, port, SMTP_HOSTS[kind]);
        started.push(s);
      }
      return { port, recipients, stop: () => closeAll(started) };
    } catch (err) {
      await closeAll(started);
      if (attempt >= 4) throw err;
    }
  }
}

function server(handlers: Partial<ConstructorParameters<typeof SMTPServer>[0]>): SMTPServer {
  const s = new SMTPServer({
    name: 'mx.test',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onData: (stream, _s, cb) => {
      stream.resume();
      stream.on('end', () => cb(smtpError(554, '5.7.1 This server takes no mail')));
    },
    ...handlers,
  });
  // A client that resets its connection (a timed-out probe, a killed service) is not a server failure.
  s.on('error', () => {});
  return s;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function listen(s: SMTPServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

function closeAll(servers: SMTPServer[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
    () => {},
  );
}

/** A port free on 127.0.0.1; the loop above retries when another 127.0.0.x has it taken. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
