import { connect } from 'node:net';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One HTTP request with a hard timeout; probes must never hang `up` or `status`. */
export async function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 3_000,
): Promise<HttpAnswer> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** GET that must answer 200; the error names the URL and what came back instead. */
export async function expectOk(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await httpGet(url, headers);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.body.slice(0, 200)}`);
  return res.body;
}

/** Whether anything accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `probe` until it resolves, `alive` turns false, or the deadline passes; rethrows the last failure. */
export async function waitFor(
  probe: () => Promise<void>,
  opts: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
    }
    if (opts.alive && !opts.alive()) throw new Error(`process exited while starting: ${String(last)}`);
    if (Date.now() > deadline) throw new Error(`not healthy after ${opts.timeoutMs} ms: ${String(last)}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
