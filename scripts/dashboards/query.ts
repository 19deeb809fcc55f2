/**
 * Runs a dashboard's panels the way Grafana does: template variables resolved from their definitions,
 * `$var` / `${var}` / `[[var]]` and Grafana's `$__range`, `$__interval`, `$__rate_interval` substituted,
 * PromQL sent to Prometheus's HTTP API (range queries, or instant ones where the target says so), SQL to
 * ClickHouse through the official client.
 */
import { createClickHouse } from '../../services/lib/clickhouse.ts';
import {
  CLICKHOUSE_TYPE,
  type Dashboard,
  type Datasource,
  type Panel,
  PROMETHEUS_TYPE,
  type Target,
  type Variable,
} from './model.ts';

export interface TimeRange {
  /** Unix seconds. */
  from: number;
  to: number;
}

export interface Series {
  name: string;
  labels: Record<string, string>;
  /** [unix seconds, value] */
  points: Array<[number, number]>;
}

export type Frame =
  | { kind: 'series'; series: Series[] }
  | { kind: 'table'; columns: string[]; rows: unknown[][] };

export interface TargetResult {
  refId: string;
  /** The query as sent, variables substituted. */
  query: string;
  frame?: Frame;
  error?: string;
}

export interface PanelResult {
  panel: Panel;
  targets: TargetResult[];
}

/** Everything a query needs besides the dashboard: where the data sources are, the range, the variables. */
export interface QueryContext {
  datasources: ReadonlyMap<string, Datasource>;
  range: TimeRange;
  vars: Record<string, string>;
}

/** The scrape interval of grafana/prometheus.yml: Grafana's $__rate_interval is at least four of them. */
const SCRAPE_INTERVAL_S = 15;
const MAX_POINTS = 120;

/** `now`, `now-15m`, `now-6h`, `now-2d` (Grafana's relative times), or unix seconds. */
export function parseTime(text: string, now = Date.now() / 1000): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = /^now(?:-(\d+)([smhd]))?$/.exec(text);
  if (!m) throw new Error(`time "${text}": use now, now-<n>[smhd] or unix seconds`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return now - Number(m[1] ?? 0) * unit;
}

export function stepSeconds(range: TimeRange): number {
  return Math.max(SCRAPE_INTERVAL_S, Math.ceil((range.to - range.from) / MAX_POINTS));
}

/** Grafana's built-in interval variables for a range, as PromQL durations. */
export function builtins(range: TimeRange): Record<string, string> {
  const step = stepSeconds(range);
  return {
    __range: `${Math.max(1, Math.round(range.to - range.from))}s`,
    __interval: `${step}s`,
    __rate_interval: `${Math.max(4 * SCRAPE_INTERVAL_S, step + SCRAPE_INTERVAL_S)}s`,
  };
}

/** Substitutes `${name}`, `[[name]]` and `$name`; an unknown name is an error, not left in the query. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (_whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const value = vars[name];
    if (value === undefined) throw new Error(`unknown variable $${name} in: ${text}`);
    return value;
  });
}

async function prometheusApi(base: string, path: string, params: Record<string, string>): Promise<unknown> {
  // GET: the label values endpoint takes no POST; panel queries are short enough for a URL.
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => null)) as {
    status?: string;
    data?: unknown;
    error?: string;
  } | null;
  if (!res.ok || body?.status !== 'success')
    throw new Error(`Prometheus ${path} answered ${res.status}: ${body?.error ?? 'no JSON body'}`);
  return body.data;
}

function datasource(ctx: QueryContext, uid: string, type: string): Datasource {
  const ds = ctx.datasources.get(uid);
  if (!ds || ds.type !== type) throw new Error(`data source ${uid} (${type}) is not provisioned`);
  return ds;
}

/** The values a `label_values(<selector>, <label>)` query variable offers, sorted. */
export async function variableOptions(v: Variable, ctx: QueryContext): Promise<string[]> {
  if (v.type !== 'query') return [v.query];
  if (v.datasource?.type !== PROMETHEUS_TYPE)
    throw new Error(`variable ${v.name}: only Prometheus query variables are supported`);
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query.trim());
  if (!m?.[1] || !m[2])
    throw new Error(`variable ${v.name}: "${v.query}" is not label_values(<selector>, <label>)`);
  const ds = datasource(ctx, v.datasource.uid, PROMETHEUS_TYPE);
  const values = (await prometheusApi(ds.url, `/api/v1/label/${m[2]}/values`, {
    'match[]': m[1],
    start: String(ctx.range.from),
    end: String(ctx.range.to),
  })) as string[];
  return [...values].sort();
}

/**
 * Every variable of the dashboard with its value: the one asked for (it must be among a query
 * variable's options), else the first option, else the textbox's default. The built-ins are included.
 */
export async function resolveVariables(
  dashboard: Dashboard,
  ctx: Omit<QueryContext, 'vars'>,
  asked: Record<string, string | undefined> = {},
): Promise<{ vars: Record<string, string>; options: Record<string, string[]> }> {
  const vars: Record<string, string> = builtins(ctx.range);
  const options: Record<string, string[]> = {};
  for (const v of dashboard.templating.list) {
    const offered = await variableOptions(v, { ...ctx, vars });
    options[v.name] = offered;
    const wanted = asked[v.name];
    if (v.type === 'query') {
      if (wanted !== undefined && !offered.includes(wanted))
        throw new Error(`variable ${v.name}: "${wanted}" is not among ${JSON.stringify(offered)}`);
      const value = wanted ?? offered[0];
      if (value === undefined) throw new Error(`variable ${v.name}: ${v.query} offers no value`);
      vars[v.name] = value;
    } else {
      vars[v.name] = wanted ?? v.query;
    }
  }
  return { vars, options };
}

function legend(format: string | undefined, labels: Record<string, string>): string {
  if (format) return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
  const entries = Object.entries(labels).filter(([k]) => k !== '__name__');
  return entries.length ? entries.map(([k, v]) => `${k}="${v}"`).join(', ') : 'value';
}

async function runPrometheus(ds: Datasource, t: Target, query: string, range: TimeRange): Promise<Frame> {
  type Sample = { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] };
  const data = t.instant
    ? ((await prometheusApi(ds.url, '/api/v1/query', { query, time: String(range.to) })) as {
        result: Sample[];
      })
    : ((await prometheusApi(ds.url, '/api/v1/query_range', {
        query,
        start: String(range.from),
        end: String(range.to),
        step: String(stepSeconds(range)),
      })) as { result: Sample[] });
  return {
    kind: 'series',
    series: data.result.map((s) => ({
      name: legend(t.legendFormat, s.metric),
      labels: s.metric,
      points: (s.values ?? (s.value ? [s.value] : [])).map(([ts, v]) => [ts, Number(v)] as [number, number]),
    })),
  };
}

async function runClickHouse(ds: Datasource, query: string, database: string): Promise<Frame> {
  const ch = createClickHouse(
    {
      CLICKHOUSE_URL: ds.url,
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_PASSWORD: '',
      CLICKHOUSE_DATABASE: database,
    },
    { requestTimeoutMs: 30_000 },
  );
  try {
    const result = await ch.query({ query, format: 'JSON' });
    const body = (await result.json()) as { meta: Array<{ name: string }>; data: Record<string, unknown>[] };
    const columns = body.meta.map((m) => m.name);
    return { kind: 'table', columns, rows: body.data.map((row) => columns.map((c) => row[c])) };
  } finally {
    await ch.close();
  }
}

/** The database ClickHouse panels read unqualified names from: $database, else the data source's default. */
function clickhouseDatabase(ds: Datasource, vars: Record<string, string>): string {
  return vars.database ?? String(ds.jsonData?.defaultDatabase ?? 'default');
}

/** Runs each target of a panel; an error is kept per target (the panel shows it), never thrown. */
export async function runPanel(panel: Panel, ctx: QueryContext): Promise<PanelResult> {
  const targets = await Promise.all(
    panel.targets.map(async (t): Promise<TargetResult> => {
      const ref = t.datasource ?? panel.datasource;
      const raw = ref.type === PROMETHEUS_TYPE ? t.expr : t.query;
      let query = raw ?? '';
      try {
        query = interpolate(raw ?? '', ctx.vars);
        const ds = datasource(ctx, ref.uid, ref.type);
        const frame =
          ref.type === CLICKHOUSE_TYPE
            ? await runClickHouse(ds, query, clickhouseDatabase(ds, ctx.vars))
            : await runPrometheus(ds, t, query, ctx.range);
        return { refId: t.refId, query, frame };
      } catch (err) {
        return { refId: t.refId, query, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return { panel, targets };
}

/** Data means at least one series with a sample, or at least one row. */
export function hasData(frame: Frame | undefined): boolean {
  if (!frame) return false;
  return frame.kind === 'table' ? frame.rows.length > 0 : frame.series.some((s) => s.points.length > 0);
}
