/**
 * The operator dashboards as Grafana provisions them: grafana/provisioning/datasources/*.yml names the
 * data sources, grafana/provisioning/dashboards/*.yml the folder of dashboard JSON files. The same files
 * load into a real Grafana (docker-compose mounts them); here they are read for the stack's own dashboard
 * server and for the test that runs every panel's query.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const PROMETHEUS_TYPE = 'prometheus';
/** Altinity's ClickHouse plugin: it talks HTTP, which the stack's ClickHouse 18.16 serves. */
export const CLICKHOUSE_TYPE = 'vertamedia-clickhouse-datasource';

const DatasourceRef = z.object({ type: z.enum([PROMETHEUS_TYPE, CLICKHOUSE_TYPE]), uid: z.string() });

const Target = z.object({
  refId: z.string(),
  datasource: DatasourceRef.optional(),
  /** PromQL (Prometheus targets). */
  expr: z.string().optional(),
  /** SQL (ClickHouse targets). */
  query: z.string().optional(),
  legendFormat: z.string().optional(),
  /** Prometheus: an instant query instead of a range. */
  instant: z.boolean().optional(),
});

const Panel = z.object({
  id: z.number().int(),
  title: z.string().min(1),
  type: z.enum(['timeseries', 'stat', 'table']),
  description: z.string().optional(),
  datasource: DatasourceRef,
  gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  targets: z.array(Target).min(1),
  fieldConfig: z
    .object({ defaults: z.object({ unit: z.string().optional() }).loose() })
    .loose()
    .optional(),
});

const Variable = z.object({
  name: z.string().regex(/^[a-z_][a-z0-9_]*$/i),
  label: z.string().optional(),
  type: z.enum(['query', 'textbox', 'constant']),
  datasource: DatasourceRef.optional(),
  /** query: `label_values(<selector>, <label>)`; textbox and constant: the default value. */
  query: z.string(),
  description: z.string().optional(),
});

export const Dashboard = z.object({
  uid: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).default([]),
  schemaVersion: z.number().int(),
  refresh: z.string().optional(),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({ list: z.array(Variable) }),
  panels: z.array(Panel).min(1),
});

export type Dashboard = z.infer<typeof Dashboard>;
export type Panel = Dashboard['panels'][number];
export type Target = Panel['targets'][number];
export type Variable = Dashboard['templating']['list'][number];

const DatasourcesFile = z.object({
  apiVersion: z.literal(1),
  datasources: z.array(
    z.object({
      name: z.string(),
      uid: z.string(),
      type: z.enum([PROMETHEUS_TYPE, CLICKHOUSE_TYPE]),
      url: z.string().url(),
      jsonData: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
export type Datasource = z.infer<typeof DatasourcesFile>['datasources'][number];

const ProvidersFile = z.object({
  apiVersion: z.literal(1),
  providers: z.array(
    z.object({ name: z.string(), type: z.literal('file'), options: z.object({ path: z.string() }) }),
  ),
});

export interface Provisioned {
  datasources: Map<string, Datasource>;
  dashboards: Array<{ file: string; dashboard: Dashboard }>;
}

/** Grafana's provisioning files expand `$VAR` and `${VAR}` from the environment; so do we. */
export function expandEnv(text: string, env: Record<string, string | undefined>, file: string): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = env[name];
    if (value === undefined || value === '')
      throw new Error(`${file}: environment variable ${name} is not set`);
    return value;
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(`${file}: ${issues.join('; ')}`);
  }
  return r.data;
}

/** One dashboard JSON file, checked: every panel and target names a data source that is provisioned. */
export function loadDashboard(file: string, datasources: ReadonlyMap<string, Datasource>): Dashboard {
  const dashboard = parseWith(Dashboard, JSON.parse(readFileSync(file, 'utf8')), file);
  for (const p of dashboard.panels) {
    for (const ref of [p.datasource, ...p.targets.flatMap((t) => (t.datasource ? [t.datasource] : []))]) {
      const ds = datasources.get(ref.uid);
      if (!ds || ds.type !== ref.type)
        throw new Error(
          `${file}: panel "${p.title}" uses data source ${ref.uid} (${ref.type}), not provisioned`,
        );
    }
    for (const t of p.targets) {
      const text = p.datasource.type === PROMETHEUS_TYPE ? t.expr : t.query;
      if (!text?.trim()) throw new Error(`${file}: panel "${p.title}" target ${t.refId} has no query`);
    }
  }
  return dashboard;
}

/** Reads grafana/provisioning (datasources/ and dashboards/) under `grafanaDir`, env expanded. */
export function loadProvisioning(grafanaDir: string, env: Record<string, string | undefined>): Provisioned {
  const datasources = new Map<string, Datasource>();
  for (const file of yamlFiles(join(grafanaDir, 'provisioning', 'datasources'))) {
    const parsed = parseWith(DatasourcesFile, parse(expandEnv(readFileSync(file, 'utf8'), env, file)), file);
    for (const ds of parsed.datasources) datasources.set(ds.uid, ds);
  }
  const dashboards: Provisioned['dashboards'] = [];
  for (const file of yamlFiles(join(grafanaDir, 'provisioning', 'dashboards'))) {
    const parsed = parseWith(ProvidersFile, parse(expandEnv(readFileSync(file, 'utf8'), env, file)), file);
    for (const provider of parsed.providers) {
      for (const f of readdirSync(provider.options.path)
        .filter((n) => n.endsWith('.json'))
        .sort()) {
        const path = join(provider.options.path, f);
        dashboards.push({ file: path, dashboard: loadDashboard(path, datasources) });
      }
    }
  }
  if (!dashboards.length) throw new Error(`${grafanaDir}/provisioning/dashboards provides no dashboard`);
  return { datasources, dashboards };
}
