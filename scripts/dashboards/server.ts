/**
 * The native stack's dashboard server: serves the provisioned Grafana dashboards (grafana/provisioning,
 * grafana/dashboards) as server-rendered pages, querying the provisioned Prometheus and ClickHouse on
 * each request. It stands in for Grafana, which no package registry this project reaches carries
 * (README "Operators"); docker-compose runs the real Grafana on the same files.
 *
 *   tsx scripts/dashboards/server.ts --port 3000
 *   GET /                      the dashboards
 *   GET /d/<uid>?var-prefix=…&var-database=…&from=now-1h   one dashboard, Grafana's URL parameters
 *   GET /api/health            {"status":"ok","dashboards":[uids]} once the provisioning files load
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { loadProvisioning } from './model.ts';
import { parseTime, resolveVariables, runPanel } from './query.ts';
import { dashboardPage, errorPage, indexPage, RANGES } from './render.ts';

export interface DashboardServerOptions {
  /** Folder holding provisioning/ (default: this repository's grafana/). */
  grafanaDir?: string;
  env?: Record<string, string | undefined>;
}

/** The environment the provisioning files expand, with the repository's dashboards folder as default. */
function provisioningEnv(opts: DashboardServerOptions): Record<string, string | undefined> {
  const env = opts.env ?? process.env;
  return { LEEDRUSH_DASHBOARDS_DIR: join(REPO_ROOT, 'grafana', 'dashboards'), ...env };
}

export function dashboardApp(opts: DashboardServerOptions = {}): Hono {
  const grafanaDir = opts.grafanaDir ?? join(REPO_ROOT, 'grafana');
  const env = provisioningEnv(opts);
  // Read on every request, as Grafana's file provider re-reads its folder: an edited JSON shows on reload.
  const load = () => loadProvisioning(grafanaDir, env);
  const app = new Hono();

  app.get('/api/health', (c) => {
    try {
      return c.json({ status: 'ok', dashboards: load().dashboards.map((d) => d.dashboard.uid) });
    } catch (err) {
      return c.json({ status: 'error', detail: (err as Error).message }, 500);
    }
  });
  app.get('/', (c) => c.html(indexPage(load().dashboards.map((d) => d.dashboard))));
  app.get('/d/:uid', async (c) => {
    const { datasources, dashboards } = load();
    const all = dashboards.map((d) => d.dashboard);
    const dashboard = all.find((d) => d.uid === c.req.param('uid'));
    if (!dashboard)
      return c.html(
        errorPage(404, `no dashboard "${c.req.param('uid')}"; known: ${all.map((d) => d.uid).join(', ')}`),
        404,
      );
    const from = c.req.query('from') ?? dashboard.time.from;
    if (!(RANGES as readonly string[]).includes(from))
      return c.html(errorPage(400, `from=${from}: use one of ${RANGES.join(', ')}`), 400);
    const range = { from: parseTime(from), to: parseTime('now') };
    const asked: Record<string, string | undefined> = {};
    for (const v of dashboard.templating.list) asked[v.name] = c.req.query(`var-${v.name}`);
    // A deployment's own database is the natural default of $database.
    asked.database ??= env.CLICKHOUSE_DATABASE || undefined;
    let resolved: Awaited<ReturnType<typeof resolveVariables>>;
    try {
      resolved = await resolveVariables(dashboard, { datasources, range }, asked);
    } catch (err) {
      return c.html(errorPage(400, (err as Error).message), 400);
    }
    const results = await Promise.all(
      dashboard.panels.map((p) => runPanel(p, { datasources, range, vars: resolved.vars })),
    );
    return c.html(
      dashboardPage({
        dashboard,
        all,
        results,
        vars: resolved.vars,
        options: resolved.options,
        from,
        range,
        generatedAt: new Date(),
      }),
    );
  });
  return app;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
  const port = Number(values.port ?? process.env.DASHBOARDS_PORT ?? 3000);
  const hostname = values.host ?? '127.0.0.1';
  // Fail at start, with the reason, rather than on the first page.
  loadProvisioning(join(REPO_ROOT, 'grafana'), provisioningEnv({}));
  serve({ fetch: dashboardApp().fetch, port, hostname }, (info) =>
    console.log(`dashboards on http://${hostname}:${info.port}/`),
  );
}
