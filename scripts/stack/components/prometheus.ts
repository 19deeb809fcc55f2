import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Writes the config and target files; true when the scrape config changed. */
function writeConfig(ctx: StackContext): boolean {
  const conf = confDir(ctx.paths);
  mkdirSync(prometheusTargetsDir(ctx.paths), { recursive: true });
  mkdirSync(join(ctx.paths.data, 'prometheus'), { recursive: true });
  // Copied next to its targets folder because Prometheus resolves file_sd paths against the config's folder.
  const wanted = readFileSync(join(ctx.paths.root, 'grafana', 'prometheus.yml'), 'utf8');
  const file = join(conf, 'prometheus.yml');
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== wanted) writeFileSync(file, wanted);
  const targets = nativeTargets({
    prometheusPort: port,
    registryManagementPort: portFromEnv('REGISTRY_MANAGEMENT', 8082),
  });
  for (const [name, groups] of Object.entries(targets)) {
    writeFileSync(join(prometheusTargetsDir(ctx.paths), name), `${JSON.stringify(groups, null, 2)}\n`);
  }
  return current !== wanted;
}

/** A running Prometheus picks up an edited grafana/prometheus.yml through its reload endpoint. */
async function refresh(ctx: StackContext): Promise<void> {
  if (!writeConfig(ctx)) return;
  ctx.log('grafana/prometheus.yml changed: reloading Prometheus');
  const res = await fetch(`${base}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`Prometheus reload answered ${res.status}: ${await res.text()}`);
}

export const prometheus: Component = {
  name: 'prometheus',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { PROMETHEUS_URL: base },
  install: (ctx: StackContext) => aptEnsure(['prometheus'], ctx.log),
  prepare: async (ctx) => {
    writeConfig(ctx);
  },
  refresh,
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
