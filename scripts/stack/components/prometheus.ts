import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** The `prefix` label of a scrape target: a service's LEEDRUSH_PREFIX, "default" when it has none. */
export const prefixLabel = (prefix: string): string => prefix || 'default';

/**
 * Has a Leedrush service on this machine scraped: writes `targets/leedrush-<name>.json` (Prometheus notices
 * it within the file_sd refresh interval). Returns the file, to be removed when the service stops.
 */
export function writeScrapeTarget(
  targetsDir: string,
  name: string,
  address: string,
  labels: { service: string; prefix: string },
): string {
  mkdirSync(targetsDir, { recursive: true });
  const file = join(targetsDir, `leedrush-${name}.json`);
  const group: FileSdGroup = {
    targets: [address],
    labels: { ...labels, prefix: prefixLabel(labels.prefix) },
  };
  writeFileSync(file, `${JSON.stringify([group])}\n`);
  return file;
}

/** The alert rules (grafana/alerts/*.rules.yml), their unit tests left out; true when any changed. */
function writeRules(ctx: StackContext): boolean {
  const from = join(ctx.paths.root, 'grafana', 'alerts');
  const to = join(confDir(ctx.paths), 'rules');
  mkdirSync(to, { recursive: true });
  const wanted = new Map(
    readdirSync(from)
      .filter((f) => f.endsWith('.rules.yml'))
      .map((f) => [f, readFileSync(join(from, f), 'utf8')]),
  );
  let changed = false;
  for (const f of readdirSync(to)) {
    if (!wanted.has(f)) {
      rmSync(join(to, f));
      changed = true;
    }
  }
  for (const [f, text] of wanted) {
    if (readOrUndefined(join(to, f)) === text) continue;
    writeFileSync(join(to, f), text);
    changed = true;
  }
  return changed;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes the config, rule and target files; true when the scrape config or a rule file changed. */
function writeConfig(ctx: StackContext): boolean {
  const conf = confDir(ctx.paths);
  mkdirSync(prometheusTargetsDir(ctx.paths), { recursive: true });
  mkdirSync(join(ctx.paths.data, 'prometheus'), { recursive: true });
  // Copied next to its targets folder because Prometheus resolves file_sd paths against the config's folder.
  const wanted = readFileSync(join(ctx.paths.root, 'grafana', 'prometheus.yml'), 'utf8');
  const file = join(conf, 'prometheus.yml');
  const current = readOrUndefined(file);
  if (current !== wanted) writeFileSync(file, wanted);
  const rulesChanged = writeRules(ctx);
  const targets = nativeTargets({
    prometheusPort: port,
    registryManagementPort: portFromEnv('REGISTRY_MANAGEMENT', 8082),
  });
  for (const [name, groups] of Object.entries(targets)) {
    writeFileSync(join(prometheusTargetsDir(ctx.paths), name), `${JSON.stringify(groups, null, 2)}\n`);
  }
  return current !== wanted || rulesChanged;
}

/** A running Prometheus picks up an edited grafana/prometheus.yml or alert rule through its reload endpoint. */
async function refresh(ctx: StackContext): Promise<void> {
  if (!writeConfig(ctx)) return;
  ctx.log('grafana/prometheus.yml or grafana/alerts changed: reloading Prometheus');
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
