import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from '../apt.ts';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import { runOrThrow, which } from '../exec.ts';
import type { StackPaths } from '../paths.ts';
import { expectOk } from '../probes.ts';

export const STRIPE_MOCK_VERSION = 'v0.203.0';
const HOST = '127.0.0.1';
const DEFAULT_PORT = 12111;
const port = portFromEnv('STRIPE', DEFAULT_PORT);
/** stripe-mock always serves HTTPS too (-http-addr does not turn it off), so pin it to loopback as well. */
const httpsPort = portFromEnv('STRIPE_HTTPS', 12112);
const base = `http://${HOST}:${port}`;
const binary = (p: StackPaths) => join(p.bin, 'stripe-mock');
/** stripe-mock accepts any key of the right shape; this is the one its own docs use. */
const AUTH = { Authorization: 'Bearer sk_test_123' };

async function install(ctx: StackContext): Promise<void> {
  if (existsSync(binary(ctx.paths))) return;
  // Debian's Go may be older than stripe-mock needs; GOTOOLCHAIN=auto fetches a newer toolchain from the Go proxy.
  if (!which('go')) await aptEnsure(['golang-go'], ctx.log);
  ctx.log(`building stripe-mock ${STRIPE_MOCK_VERSION} (go install)`);
  await runOrThrow('go', ['install', `github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`], {
    env: { ...process.env, GOBIN: ctx.paths.bin, GOTOOLCHAIN: 'auto', CGO_ENABLED: '0' },
    timeoutMs: 600_000,
  });
}

/** The module version from the binary's embedded build info (its -version flag says "master"). */
export function parseGoModVersion(buildInfo: string, module: string): string {
  const line = buildInfo.split('\n').find((l) => l.trim().startsWith(`mod\t${module}\t`));
  const version = line?.trim().split('\t')[2];
  if (!version) throw new Error(`no module ${module} in build info`);
  return version;
}

export const stripeMock: Component = {
  name: 'stripe-mock',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { STRIPE_API_BASE: base },
  install,
  prepare: async () => {},
  launch: (ctx) => ({
    cmd: binary(ctx.paths),
    args: ['-http-addr', `${HOST}:${port}`, '-https-addr', `${HOST}:${httpsPort}`],
  }),
  health: async () => {
    await expectOk(`${base}/v1/customers?limit=1`, AUTH);
  },
  version: async (_ctx, pid) =>
    parseGoModVersion(
      await runOrThrow('go', ['version', '-m', `/proc/${pid}/exe`]),
      'github.com/stripe/stripe-mock',
    ),
  startTimeoutMs: 30_000,
};
