/**
 * `npm start`: the whole product on this machine. Starts the local stack if needed, applies the
 * topology, then runs the gateway (port 8080) and one process per pipeline service, each with its
 * /metrics scraped by the stack's Prometheus. Ctrl-C (or SIGTERM) stops them all: every service drains
 * and commits before it exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, REPO_ROOT } from '../services/lib/config.ts';
import { serviceArgv } from '../services/lib/heap-limits.ts';
import { applyTopology } from '../topology/apply.ts';
import { PHASE_CHAIN } from '../topology/topics.ts';
import { writeScrapeTarget } from './stack/components/prometheus.ts';
import { up } from './stack/stack.ts';

/** Every phase of the chain, the usage consumer (usage.events → ClickHouse) included. */
const SERVICES = PHASE_CHAIN.map((p) => p.name);
const FIRST_METRICS_PORT = Number(process.env.METRICS_BASE_PORT ?? 9464);
const STACK_DIR = process.env.STACK_DIR ?? join(REPO_ROOT, '.stack');
const TARGETS_DIR = join(STACK_DIR, 'conf', 'prometheus', 'targets');

/** A development JWT secret, made once and kept with the stack's data; production sets JWT_SECRET. */
function jwtSecret(): string {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const file = join(STACK_DIR, 'secrets', 'jwt');
  if (!existsSync(file)) {
    mkdirSync(join(STACK_DIR, 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

interface Child {
  name: string;
  proc: ChildProcess;
  targetFile: string | null;
}

function launch(name: string, entry: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, serviceArgv(name, entry), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (line) =>
        process.stdout.write(`${name.padEnd(11)}| ${line}\n`),
      );
  }
  return { name, proc, targetFile: null };
}

function scrapeTarget(name: string, port: number): string {
  return writeScrapeTarget(TARGETS_DIR, name, `127.0.0.1:${port}`, {
    service: name,
    prefix: process.env.LEEDRUSH_PREFIX ?? '',
  });
}

async function main(): Promise<void> {
  for (const name of SERVICES) {
    if (!existsSync(join(REPO_ROOT, 'services', name, 'main.ts'))) {
      throw new Error(
        `services/${name}/main.ts is missing: the pipeline cannot run without its ${name} phase`,
      );
    }
  }
  console.log('starting the local stack (no-op when it is running) ...');
  const stackEnv = await up();
  for (const [key, value] of Object.entries(stackEnv)) process.env[key] ??= value;
  console.log('applying the topology ...');
  await applyTopology(loadConfig(), { onAction: (line: string) => console.log(`  ${line}`) });

  const children: Child[] = [];
  SERVICES.forEach((name, i) => {
    const port = FIRST_METRICS_PORT + i;
    const child = launch(name, join('services', name, 'main.ts'), { METRICS_PORT: String(port) });
    child.targetFile = scrapeTarget(name, port);
    children.push(child);
  });
  const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8080);
  const gateway = launch('gateway', join('gateway', 'main.ts'), { JWT_SECRET: jwtSecret() });
  gateway.targetFile = scrapeTarget('gateway', gatewayPort);
  children.push(gateway);
  const origin = `http://127.0.0.1:${gatewayPort}`;
  console.log(`gateway on ${origin}/api, dashboard on ${origin}/app/ — Ctrl-C stops everything`);
  console.log(
    `operator dashboards on ${stackEnv.DASHBOARDS_URL}/, Prometheus on ${stackEnv.PROMETHEUS_URL}/`,
  );

  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    }, 30_000);
    Promise.all(
      children.map((c) => (c.proc.exitCode === null ? new Promise((r) => c.proc.once('exit', r)) : null)),
    ).then(() => {
      clearTimeout(force);
      for (const c of children) if (c.targetFile) rmSync(c.targetFile, { force: true });
      process.exit(code);
    });
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  for (const c of children) {
    c.proc.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${c.name} exited (${signal ?? code}); stopping everything`);
      stopAll(1);
    });
  }
}

main().catch((err) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
