import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Component, portFromEnv } from '../component.ts';
import { expectOk } from '../probes.ts';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 12080;
const port = portFromEnv('SANDBOX', DEFAULT_PORT);
const base = `http://${HOST}:${port}`;

/**
 * The sandbox enrichment providers (Apollo, Clearbit, Hunter, Snov shapes on one port): invented data for
 * tests and benchmarks. Its URL goes into `.stack/env` as ENRICH_SANDBOX_URL; a process uses it only when
 * it opts in with ENRICH_SANDBOX=1 (services/enrich/provider-mode.ts), never by default.
 */
export const sandbox: Component = {
  name: 'sandbox',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { ENRICH_SANDBOX_URL: base },
  install: async () => {},
  prepare: async () => {},
  launch: (ctx) => ({
    cmd: process.execPath,
    args: [
      '--import',
      'tsx',
      join(ctx.paths.root, 'services/enrich/sandbox/server.ts'),
      '--port',
      String(port),
    ],
    cwd: ctx.paths.root,
  }),
  health: async () => {
    await expectOk(`${base}/__sandbox/stats`);
  },
  // The sandbox is part of this repository: its version is the project's.
  version: async (ctx) => {
    const pkg = JSON.parse(await readFile(join(ctx.paths.root, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return `leedrush ${pkg.version ?? 'unknown'}`;
  },
  startTimeoutMs: 30_000,
};
