import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkSyntax, type ParsedAddress } from '../../services/verify/email-syntax.ts';
import { SmtpConnection } from '../../services/verify/smtp-connection.ts';
import { type ProbeOptions, probeMailbox } from '../../services/verify/smtp-probe.ts';

// Scripted SMTP servers on loopback: each answers commands from a table, so the edges of the protocol
// (multi-line replies split across packets, odd codes, closed connections) are exercised exactly.

type Script = {
  greeting?: string;
  /** Reply to a command, by the command's first word (or the whole line for RCPT); undefined: 250 OK. */
  reply?: (line: string) => string | undefined;
  /** Write every reply one byte at a time. */
  trickle?: boolean;
};

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function scripted(script: Script): Promise<{ port: number; lines: string[] }> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const send = (text: string) => {
      if (!script.trickle) return void socket.write(text);
      for (const ch of text) socket.write(ch);
    };
    send(script.greeting ?? '220 mx.test ESMTP\r\n');
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        lines.push(line);
        if (line === 'QUIT') {
          send('221 bye\r\n');
          socket.end();
          continue;
        }
        send(script.reply?.(line) ?? '250 OK\r\n');
      }
    });
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, lines };
}

const options = (port: number, over: Partial<ProbeOptions> = {}): ProbeOptions => ({
  port,
  heloName: 'probe.test',
  mailFrom: 'probe@leedrush.test',
  stepTimeoutMs: 1_000,
  totalTimeoutMs: 3_000,
  ...over,
});

const address = (a: string): ParsedAddress => {
  const s = checkSyntax(a);
  if (!s.ok) throw new Error(s.reason);
  return s.address;
};

const loopback = async () => ['127.0.0.1'];

describe('SmtpConnection reads replies', () => {
  it('assembles a multi-line reply that arrives one byte at a time', async () => {
    const { port } = await scripted({
      trickle: true,
      reply: (l) =>
        l.startsWith('EHLO') ? '250-mx.test hello\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n' : undefined,
    });
    const conn = await SmtpConnection.open('127.0.0.1', port, 1_000);
    expect((await conn.read('greeting', 1_000)).code).toBe(220);
    const ehlo = await conn.send('EHLO probe.test', 'EHLO', 1_000);
    expect(ehlo).toEqual({ code: 250, lines: ['mx.test hello', 'PIPELINING', 'SMTPUTF8'], enhanced: null });
    conn.close();
  });

  it('reads enhanced status codes and bare codes', async () => {
    const { port } = await scripted({
      reply: (l) => (l.startsWith('MAIL') ? '250\r\n' : '550 5.1.1 <x@acme.test>: user unknown\r\n'),
    });
    const conn = await SmtpConnection.open('127.0.0.1', port, 1_000);
    await conn.read('greeting', 1_000);
    expect(await conn.send('MAIL FROM:<>', 'MAIL', 1_000)).toEqual({
      code: 250,
      lines: [''],
      enhanced: null,
    });
    const rcpt = await conn.send('RCPT TO:<x@acme.test>', 'RCPT', 1_000);
    expect(rcpt.code).toBe(550);
    expect(rcpt.enhanced).toBe('5.1.1');
    conn.close();
  });

  it('rejects a garbage line as a protocol error instead of waiting', async () => {
    const { port } = await scripted({ greeting: 'HTTP/1.1 400 Bad Request\r\n' });
    const conn = await SmtpConnection.open('127.0.0.1', port, 1_000);
    await expect(conn.read('greeting', 1_000)).rejects.toThrow(/not an SMTP reply line/);
  });
});

describe('probeMailbox verdicts', () => {
  it('falls back to HELO when EHLO is refused, and sends no DATA', async () => {
    const server = await scripted({
      reply: (l) => {
        if (l.startsWith('EHLO')) return '502 5.5.2 command not recognised\r\n';
        if (l.includes('lr-probe-')) return '550 5.1.1 no such user\r\n';
        return undefined;
      },
    });
    const v = await probeMailbox(address('jane@acme.test'), ['mx.acme.test'], loopback, options(server.port));
    expect(v.status).toBe('verified_deliverable');
    // QUIT is sent as the verdict is returned; let it arrive.
    await vi.waitFor(() =>
      expect(server.lines.map((l) => l.split(/[ :]/)[0])).toEqual([
        'EHLO',
        'HELO',
        'MAIL',
        'RCPT',
        'RCPT',
        'QUIT',
      ]),
    );
    expect(server.lines[2]).toBe('MAIL FROM:<probe@leedrush.test>');
  });

  it('a 550 with a 5.7.x policy code says nothing about the mailbox', async () => {
    const { port } = await scripted({
      reply: (l) =>
        l.startsWith('RCPT') ? '550 5.7.1 Service unavailable; client host blocked\r\n' : undefined,
    });
    const v = await probeMailbox(address('jane@acme.test'), ['mx'], loopback, options(port));
    expect(v).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/another reason.*5\.7\.1/) });
  });

  it('a 552 (mailbox full) is unknown, 553 (mailbox name not allowed) undeliverable', async () => {
    const full = await scripted({
      reply: (l) => (l.startsWith('RCPT') ? '552 5.2.2 mailbox full\r\n' : undefined),
    });
    const bad = await scripted({
      reply: (l) => (l.startsWith('RCPT') ? '553 5.1.3 bad mailbox\r\n' : undefined),
    });
    expect((await probeMailbox(address('a@acme.test'), ['mx'], loopback, options(full.port))).status).toBe(
      'unknown',
    );
    expect((await probeMailbox(address('a@acme.test'), ['mx'], loopback, options(bad.port))).status).toBe(
      'undeliverable',
    );
  });

  it('a deferred catch-all check leaves the mailbox deliverable but not verified', async () => {
    const { port } = await scripted({
      reply: (l) => (l.includes('lr-probe-') ? '450 4.2.1 try again later\r\n' : undefined),
    });
    const v = await probeMailbox(address('jane@acme.test'), ['mx'], loopback, options(port));
    expect(v).toMatchObject({ status: 'deliverable', reason: expect.stringMatching(/inconclusive.*450/) });
  });

  it('a refused sender is unknown', async () => {
    const { port } = await scripted({
      reply: (l) => (l.startsWith('MAIL') ? '553 5.7.1 sender rejected\r\n' : undefined),
    });
    const v = await probeMailbox(address('jane@acme.test'), ['mx'], loopback, options(port));
    expect(v).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/refused the probe sender/) });
  });

  it('a 554 greeting ends the probe as unknown', async () => {
    const { port } = await scripted({ greeting: '554 5.7.1 no SMTP service here\r\n' });
    const v = await probeMailbox(address('jane@acme.test'), ['mx'], loopback, options(port));
    expect(v).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/refused the session: 554/) });
  });

  it('an internationalized address needs SMTPUTF8, and uses it when offered', async () => {
    const plain = await scripted({});
    const utf8 = await scripted({
      reply: (l) => {
        if (l.startsWith('EHLO')) return '250-mx.test\r\n250 SMTPUTF8\r\n';
        if (l.includes('lr-probe-')) return '550 5.1.1 unknown\r\n';
        return undefined;
      },
    });
    const jorg = address('jörg@bücher.de');
    expect((await probeMailbox(jorg, ['mx'], loopback, options(plain.port))).reason).toMatch(/SMTPUTF8/);
    expect((await probeMailbox(jorg, ['mx'], loopback, options(utf8.port))).status).toBe(
      'verified_deliverable',
    );
    expect(utf8.lines).toContain('MAIL FROM:<probe@leedrush.test> SMTPUTF8');
    expect(utf8.lines).toContain('RCPT TO:<jörg@xn--bcher-kva.de>');
  });

  it('an unreachable first MX passes the probe to the next', async () => {
    const { port } = await scripted({
      reply: (l) => (l.includes('lr-probe-') ? '550 5.1.1 unknown\r\n' : undefined),
    });
    // The server listens on 127.0.0.1 only, so the first MX (127.0.0.2) refuses the connection.
    const addresses = async (host: string) => (host === 'mx1' ? ['127.0.0.2'] : ['127.0.0.1']);
    const v = await probeMailbox(address('jane@acme.test'), ['mx1', 'mx2'], addresses, options(port));
    expect(v.status).toBe('verified_deliverable');
    expect(v.reason).toMatch(/^mx2 accepted/);
  });

  it('a conversation that keeps the server busy is cut at the total timeout', async () => {
    // Every reply is on time but the server is slow overall: 5 steps x 300 ms > 1 s total.
    const server = createServer((socket) => {
      socket.on('error', () => {});
      const later = (text: string) => setTimeout(() => socket.writable && socket.write(text), 300);
      later('220 slow\r\n');
      socket.on('data', () => later('250 OK\r\n'));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const started = performance.now();
    const v = await probeMailbox(
      address('jane@acme.test'),
      ['mx'],
      loopback,
      options(port, { stepTimeoutMs: 500, totalTimeoutMs: 1_000 }),
    );
    const ms = performance.now() - started;
    expect(v.status).toBe('unknown');
    expect(ms).toBeLessThan(1_000 + 300);
  });
});
