import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, componentByName } from './components/index.ts';
import { stackPaths } from './paths.ts';
import { down, restartComponent, startComponent, status, stopComponent, up } from './stack.ts';
import { formatStatus } from './status-format.ts';

const USAGE = `usage: npm run stack -- <command>
  up                 install what is missing, start every component, write .stack/env
  down               stop every process the stack started
  status             one line per component; exit code 1 if any is down
  stop <component>   stop one component
  start <component>  start one component (installed by \`up\`) and wait until it is healthy
  restart <component> [--down-ms N]  stop it, keep it down N ms, start it, print how long it was out
  logs [component]   follow a component's log (${COMPONENTS.map((c) => c.name).join(', ')})`;

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  switch (command) {
    case 'up': {
      const started = Date.now();
      await up();
      const rows = await status();
      process.stdout.write(
        `${formatStatus(rows)}\nstack up in ${((Date.now() - started) / 1000).toFixed(1)} s; settings in .stack/env\n`,
      );
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    case 'down': {
      const stopped = await down();
      process.stdout.write(stopped.length ? `stopped ${stopped.join(', ')}\n` : 'nothing was running\n');
      return 0;
    }
    case 'status': {
      const rows = await status();
      process.stdout.write(`${formatStatus(rows)}\n`);
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    case 'stop':
      process.stdout.write(
        (await stopComponent(componentByName(required(arg)).name))
          ? `stopped ${arg}\n`
          : `${arg} was not running\n`,
      );
      return 0;
    case 'start':
      await startComponent(componentByName(required(arg)).name);
      process.stdout.write(`${arg} healthy\n`);
      return 0;
    case 'restart': {
      const downMs = Number(flag(argv, '--down-ms') ?? 0);
      if (!Number.isInteger(downMs) || downMs < 0) throw new Error('--down-ms takes a whole number of ms');
      const r = await restartComponent(componentByName(required(arg)).name, { downMs });
      process.stdout.write(
        `${r.name} restarted: healthy ${((r.healthyAt - r.stoppedAt) / 1000).toFixed(1)} s after the stop\n`,
      );
      return 0;
    }
    case 'logs':
      return followLogs(arg);
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 64;
  }
}

function required(name: string | undefined): string {
  if (!name) throw new Error(`name a component: ${COMPONENTS.map((c) => c.name).join(', ')}`);
  return name;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

/**
 * `tail -F` so the log can be followed across restarts. A component's own server logs sit beside its
 * process log (kafka-server.log, clickhouse-server.err.log), so every `<name>*.log` is included.
 */
function followLogs(name: string | undefined): Promise<number> {
  const paths = stackPaths();
  const names = name ? [componentByName(name).name] : COMPONENTS.map((c) => c.name);
  const present = existsSync(paths.logs) ? readdirSync(paths.logs).filter((f) => f.endsWith('.log')) : [];
  const files = present.filter((f) => names.some((n) => f === `${n}.log` || f.startsWith(`${n}-`))).sort();
  if (files.length === 0) {
    process.stderr.write('no logs yet: run `npm run stack -- up`\n');
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const tail = spawn('tail', ['-n', '100', '-F', ...files.map((f) => join(paths.logs, f))], {
      stdio: 'inherit',
    });
    tail.on('close', (code) => resolve(code ?? 0));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
