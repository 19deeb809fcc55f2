import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from '../apt.ts';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import type { StackPaths } from '../paths.ts';
import { expectOk } from '../probes.ts';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 9090;
const port = portFromEnv('PROMETHEUS', DEFAULT_PORT);
const base = `http://${HOST}:${port}`;

/** The scrape config is the project's grafana/prometheus.yml; its file_sd targets are environment specific. */
const confDir = (p: StackPaths) => join(p.conf, 'prometheus');
export const prometheusTargetsDir = (p: StackPaths) => join(confDir(p), 'targets');

export interface FileSdGroup {
  targets: string[];
  labels?: Record<string, string>;
}

/** Targets for the native stack; a locally started service adds its own `leedrush-<name>.json` next to them. */
export function nativeTargets(s: {
  prometheusPort: number;
  registryManagementPort: number;
}): Record<string, FileSdGroup[]> {
  return {
    'prometheus.json': [{ targets: [`${HOST}:${s.prometheusPort}`] }],
    'schema-registry.json': [{ targets: [`${HOST}:${s.registryManagementPort}`] }],
  };
}

async function prepare(ctx: StackContext): Promise<void> {
  const conf = confDir(ctx.paths);
  mkdirSync(prometheusTargetsDir(ctx.paths), { recursive: true });
  mkdirSync(join(ctx.paths.data, 'prometheus'), { recursive: true });
  // Copied next to its targets folder because Prometheus resolves file_sd paths against the config's folder.
  copyFileSync(join(ctx.paths.root, 'grafana', 'prometheus.yml'), join(conf, 'prometheus.yml'));
  const targets = nativeTargets({
    prometheusPort: port,
    registryManagementPort: portFromEnv('REGISTRY_MANAGEMENT', 8082),
  });
  for (const [file, groups] of Object.entries(targets)) {
    writeFileSync(join(prometheusTargetsDir(ctx.paths), file), `${JSON.stringify(groups, null, 2)}\n`);
  }
}

export const prometheus: Component = {
  name: 'prometheus',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { PROMETHEUS_URL: base },
  install: (ctx: StackContext) => aptEnsure(['prometheus'], ctx.log),
  prepare,
  launch: (ctx) => ({
    cmd: 'prometheus',
    args: [
      `--config.file=${join(confDir(ctx.paths), 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(ctx.paths.data, 'prometheus')}`,
      '--storage.tsdb.retention.time=7d',
      `--web.listen-address=${HOST}:${port}`,
      '--web.enable-lifecycle',
    ],
  }),
  health: async () => {
    await expectOk(`${base}/-/ready`);
  },
  version: async () => {
    const info = JSON.parse(await expectOk(`${base}/api/v1/status/buildinfo`)) as {
      data?: { version?: string };
    };
    if (!info.data?.version) throw new Error('buildinfo has no version');
    return info.data.version;
  },
  startTimeoutMs: 60_000,
};
