/**
 * A service's main.ts as deployed, in its own process, for end-to-end tests: configured only by its
 * environment, up once its /health answers 200 (the runtime says so when its consumer joined the
 * group), stopped with SIGTERM (the runtime drains and commits first).
 *
 *   const ingest = await startService('ingest', serviceEnv(config, { UPLOAD_DIR: dir }));
 *   afterAll(() => ingest.stop());
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, REPO_ROOT } from '../../services/lib/config.ts';
import { serviceArgv } from '../../services/lib/heap-limits.ts';

export interface RunningService {
  name: string;
  proc: ChildProcess;
  /** Port of its /health and /metrics. */
  port: number;
  /** Everything it wrote to stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with its exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartOptions {
  /** How long /health may take to answer 200. */
  readyTimeoutMs?: number;
  /** The entry point under services/<name>/ (default main.ts). */
  entry?: string;
}

/**
 * Credits of the default plan in test harnesses: far more than any test pushes, so the meter never
 * pauses a test that is not about billing (billing tests set their own small numbers).
 */
export const PLENTY_OF_CREDITS = 'payg=1000000000';

/** The environment of a service on an isolated prefix: its topics, groups, subjects and database. */
export function serviceEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LEEDRUSH_PREFIX: config.LEEDRUSH_PREFIX,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    LOG_LEVEL: 'warn',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    BILLING_PLAN_CREDITS: PLENTY_OF_CREDITS,
    ...extra,
  };
}

/** Starts services/<name>/main.ts with process.env + `env` and waits until it is healthy. */
export async function startService(
  name: string,
  env: Record<string, string>,
  opts: StartOptions = {},
): Promise<RunningService> {
  const port = await freeTcpPort();
  const proc = spawn(
    process.execPath,
    serviceArgv(name, join(REPO_ROOT, 'services', name, opts.entry ?? 'main.ts')),
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, METRICS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  for (const stream of [proc.stdout, proc.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
  }
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const service: RunningService = {
    name,
    proc,
    port,
    output: () => text,
    stop: async (graceMs = 20_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    await waitHealthy(service, exited, opts.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await service.stop(2_000);
    throw err;
  }
  return service;
}

async function waitHealthy(
  service: RunningService,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`${service.name} exited (${exitCode}) before it was healthy:\n${service.output()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${service.port}/health`, {
        signal: AbortSignal.timeout(1_000),
      });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  throw new Error(`${service.name} not healthy after ${timeoutMs} ms (last: ${last}):\n${service.output()}`);
}

/**
 * `count` consecutive ports that are free now, below Linux's ephemeral range (32768+) so that no
 * outgoing connection of another test takes one between this check and the listener that needs it.
 */
export async function freeTcpPortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between 20000 and 32767`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
  });
}
