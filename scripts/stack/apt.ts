import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { run, runOrThrow } from './exec.ts';

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

async function isInstalled(pkg: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Status} is dpkg-query's format syntax, not JS.
  const r = await run('dpkg-query', ['-W', '-f=${Status}', pkg], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.includes('install ok installed');
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Installs the Debian packages that are missing; a fresh machine's empty package index is refreshed once.
 * Calls are queued: components install concurrently, but dpkg takes one client at a time.
 */
export function aptEnsure(packages: string[], log: (msg: string) => void): Promise<void> {
  const next = queue.then(() => aptEnsureNow(packages, log));
  queue = next.catch(() => {});
  return next;
}

async function aptEnsureNow(packages: string[], log: (msg: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) if (!(await isInstalled(pkg))) missing.push(pkg);
  if (missing.length === 0) return;
  log(`apt-get install ${missing.join(' ')}`);
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  await withoutServiceStarts(async () => {
    const first = await run('apt-get', install, { env: APT_ENV, timeoutMs: 600_000 });
    if (first.code === 0) return;
    await runOrThrow('apt-get', ['update'], { env: APT_ENV, timeoutMs: 300_000 });
    await runOrThrow('apt-get', install, { env: APT_ENV, timeoutMs: 600_000 });
  });
}

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * Package scripts would start redis-server or prometheus as system services on the very ports the stack
 * needs. The Debian policy-rc.d hook (exit 101 = "action forbidden") stops that for the install only.
 */
async function withoutServiceStarts(fn: () => Promise<void>): Promise<void> {
  if (existsSync(POLICY_RC)) return fn();
  writeFileSync(
    POLICY_RC,
    '#!/bin/sh\n# written by leedrush scripts/stack during apt-get install\nexit 101\n',
    {
      mode: 0o755,
    },
  );
  try {
    await fn();
  } finally {
    rmSync(POLICY_RC, { force: true });
  }
}
