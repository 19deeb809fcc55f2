import { connect, type Socket } from 'node:net';

/** One SMTP reply: a 3-digit code over one or more lines (RFC 5321 §4.2, "250-..." then "250 ..."). */
export type SmtpReply = {
  code: number;
  /** Text of each line, without the code and separator. */
  lines: string[];
  /** RFC 3463 enhanced status code ("5.1.1") when the server gives one. */
  enhanced: string | null;
};

/** A step did not finish in time, or the conversation as a whole ran out of time. */
export class SmtpTimeout extends Error {
  constructor(readonly step: string) {
    super(`timed out waiting for ${step}`);
  }
}

const MAX_LINE = 4096;
const CLOSE_GRACE_MS = 1_000;
const REPLY_LINE = /^(\d{3})([ -])(.*)$/;
const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})\b/;

type Waiter = { resolve: (r: SmtpReply) => void; reject: (e: Error) => void };

/**
 * The client side of an SMTP connection as a small reader: bytes in, complete replies out, one reader
 * at a time. It only sends what the caller sends; the probe decides the commands. Every wait has a
 * deadline and `close()` ends the socket at once.
 */
export class SmtpConnection {
  private buffer = '';
  private partial: string[] = [];
  private readonly replies: SmtpReply[] = [];
  private waiter: Waiter | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by server')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<SmtpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpTimeout('connect'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new SmtpConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  /** The next reply (the greeting, or the answer to the last command). */
  read(step: string, timeoutMs: number): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new SmtpTimeout(step));
      }, timeoutMs);
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  send(command: string, step: string, timeoutMs: number): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    this.socket.write(`${command}\r\n`);
    return this.read(step, timeoutMs);
  }

  /** Half-closes (the server may still answer QUIT), and drops the socket shortly after regardless. */
  close(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
    if (this.buffer.length > MAX_LINE) this.protocolError('reply line too long');
  }

  private onLine(line: string): void {
    const m = REPLY_LINE.exec(line) ?? (/^\d{3}$/.test(line) ? [line, line, ' ', ''] : null);
    if (!m) {
      this.protocolError(`not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const [, code, sep, text] = m as [string, string, string, string];
    this.partial.push(text);
    if (sep === '-') return;
    const lines = this.partial;
    this.partial = [];
    const reply: SmtpReply = {
      code: Number(code),
      lines,
      enhanced: ENHANCED.exec(lines[0] ?? '')?.[1] ?? null,
    };
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter.resolve(reply);
    else this.replies.push(reply);
  }

  private protocolError(message: string): void {
    this.fail(new Error(message));
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
  }
}

/** The text of a reply for reasons and logs: "550 5.1.1 user unknown". */
export function describeReply(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' ').trim()}`.slice(0, 200);
}
