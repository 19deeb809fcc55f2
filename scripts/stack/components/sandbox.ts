import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sandboxEnv } from '../../../services/enrich/sandbox/server.ts';
import { type Component, portFromEnv } from '../component.ts';
import { expectOk } from '../probes.ts';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 12080;
const port = portFromEnv('SANDBOX', DEFAULT_PORT);
const base = `http://${HOST}:${port}`;

/**
 * The sandbox enrichment providers (Apollo, Clearbit, Hunter, Snov shapes on one port), so the enrich
 * service has providers to call without real keys. Its URLs and sandbox keys go into `.stack/env`.
 */
export const sandbox: Component = {
  name: 'sandbox',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: sandboxEnv(base),
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
