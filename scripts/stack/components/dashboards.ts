import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Component, portFromEnv } from '../component.ts';
import { expectOk } from '../probes.ts';
import { clickhouse } from './clickhouse.ts';
import { prometheus } from './prometheus.ts';

const HOST = '127.0.0.1';
/** Grafana's port: docker-compose's real Grafana answers on the same one. */
const DEFAULT_PORT = 3000;
const port = portFromEnv('DASHBOARDS', DEFAULT_PORT);
const base = `http://${HOST}:${port}`;

/**
 * The operator dashboards: scripts/dashboards/server.ts renders the provisioned Grafana dashboards
 * (grafana/provisioning, grafana/dashboards) from the stack's Prometheus and ClickHouse. It stands in
 * for Grafana, of which no build can be had from the package registries this project reaches (README
 * "Operators" says what was tried); docker-compose runs the real Grafana on the same files.
 */
export const dashboards: Component = {
  name: 'dashboards',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { DASHBOARDS_URL: base },
  install: async () => {},
  prepare: async () => {},
  launch: (ctx) => ({
    cmd: process.execPath,
    args: ['--import', 'tsx', join(ctx.paths.root, 'scripts/dashboards/server.ts'), '--port', String(port)],
    cwd: ctx.paths.root,
    env: {
      PROMETHEUS_URL: prometheus.env.PROMETHEUS_URL as string,
      CLICKHOUSE_URL: clickhouse.env.CLICKHOUSE_URL as string,
      LEEDRUSH_DASHBOARDS_DIR: join(ctx.paths.root, 'grafana', 'dashboards'),
    },
  }),
  health: async () => {
    await expectOk(`${base}/api/health`);
  },
  // The server is part of this repository: its version is the project's, with the dashboards it serves.
  version: async (ctx) => {
    const pkg = JSON.parse(await readFile(join(ctx.paths.root, 'package.json'), 'utf8')) as {
      version?: string;
    };
    const health = JSON.parse(await expectOk(`${base}/api/health`)) as { dashboards?: string[] };
    return `leedrush ${pkg.version ?? 'unknown'} (${(health.dashboards ?? []).length} dashboards)`;
  },
  startTimeoutMs: 30_000,
};
