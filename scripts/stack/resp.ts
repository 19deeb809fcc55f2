import { connect } from 'node:net';

/**
 * Sends one inline Redis command and returns the raw reply. Enough for probes (PING, INFO); the stack
 * needs no client library for that, and the timeout keeps a wedged server from hanging `status`.
 */
export function redisCommand(
  host: string,
  port: number,
  command: string,
  timeoutMs = 2_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buf = '';
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`redis ${command}: no reply within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const reply = completeReply(buf);
      if (reply === undefined) return;
      socket.end();
      if (reply.startsWith('-')) reject(new Error(`redis ${command}: ${reply.slice(1).trim()}`));
      else resolve(reply);
    });
  });
}

/** The reply once fully received: simple strings/errors end at CRLF, bulk strings carry their length. */
export function completeReply(buf: string): string | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  if (buf[0] !== '$') return buf.slice(0, eol);
  const len = Number(buf.slice(1, eol));
  const body = Buffer.from(buf.slice(eol + 2));
  return body.length >= len + 2 ? body.subarray(0, len).toString() : undefined;
}
