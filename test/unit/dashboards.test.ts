// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} is the Grafana and provisioning syntax under test, not a template literal
/**
 * The dashboard files and the code that reads them, without anything running: every provisioned
 * dashboard loads, every query is scoped by the dashboard's own variables, and bad files or values are
 * refused with a reason. test/e2e/dashboards.test.ts runs the queries against real data.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  expandEnv,
  loadDashboard,
  loadProvisioning,
  PROMETHEUS_TYPE,
} from '../../scripts/dashboards/model.ts';
import { builtins, interpolate, parseTime } from '../../scripts/dashboards/query.ts';
import { dashboardPage, formatValue } from '../../scripts/dashboards/render.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';

const GRAFANA = join(REPO_ROOT, 'grafana');
const env = {
  PROMETHEUS_URL: 'http://127.0.0.1:9090',
  CLICKHOUSE_URL: 'http://127.0.0.1:8123',
  LEEDRUSH_DASHBOARDS_DIR: join(GRAFANA, 'dashboards'),
};
const scratch = mkdtempSync(join(tmpdir(), 'leedrush-dash-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('provisioned dashboards', () => {
  const { datasources, dashboards } = loadProvisioning(GRAFANA, env);

  it('load the five dashboards against the two provisioned data sources', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual([
      'leedrush-billing',
      'leedrush-enrichment',
      'leedrush-gateway',
      'leedrush-pipeline',
      'leedrush-webhooks',
    ]);
    expect([...datasources.values()].map((d) => [d.uid, d.url])).toEqual([
      ['leedrush-prometheus', env.PROMETHEUS_URL],
      ['leedrush-clickhouse', env.CLICKHOUSE_URL],
    ]);
  });

  it('scope every query by the dashboard variables: PromQL by $prefix, SQL by $database', () => {
    for (const { dashboard } of dashboards) {
      const names = dashboard.templating.list.map((v) => v.name);
      for (const p of dashboard.panels) {
        for (const t of p.targets) {
          if (p.datasource.type === PROMETHEUS_TYPE) {
            // Every selector of the expression, not just one of them.
            const selectors = (t.expr ?? '').match(/leedrush_\w+\{[^}]*\}/g) ?? [];
            expect(selectors.length, p.title).toBeGreaterThan(0);
            for (const s of selectors) expect(s, p.title).toContain('prefix="$prefix"');
          } else {
            expect(names, dashboard.uid).toContain('database');
            expect(t.query, p.title).toMatch(/FROM \$\{database\}\.\w+/);
          }
        }
      }
    }
  });

  it('lay panels out inside the 24-column grid without overlaps', () => {
    for (const { dashboard } of dashboards) {
      const taken = new Set<string>();
      for (const { gridPos: g, title } of dashboard.panels) {
        expect(g.x + g.w, title).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(taken.has(`${x},${y}`), `${dashboard.uid} ${title}`).toBe(false);
            taken.add(`${x},${y}`);
          }
      }
    }
  });
});

describe('reading provisioning files', () => {
  it('refuses a panel whose data source is not provisioned, naming it', () => {
    const { datasources } = loadProvisioning(GRAFANA, env);
    const good = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', 'gateway.json'), 'utf8'));
    good.panels[0].datasource = { type: 'prometheus', uid: 'elsewhere' };
    const file = join(scratch, 'bad.json');
    writeFileSync(file, JSON.stringify(good));
    expect(() => loadDashboard(file, datasources)).toThrow(
      /panel "Requests per route \(\/s\)" uses data source elsewhere/,
    );
  });

  it('refuses a dashboard of the wrong shape with the field at fault', () => {
    const { datasources } = loadProvisioning(GRAFANA, env);
    const file = join(scratch, 'shape.json');
    writeFileSync(
      file,
      JSON.stringify({
        uid: 'x',
        title: 'x',
        schemaVersion: 39,
        time: {},
        templating: { list: [] },
        panels: [],
      }),
    );
    expect(() => loadDashboard(file, datasources)).toThrow(/time\.from/);
  });

  it('expands $VAR and ${VAR} like Grafana, and names a missing one', () => {
    expect(expandEnv('url: ${A}/$B', { A: 'http://x', B: 'y' }, 'f.yml')).toBe('url: http://x/y');
    expect(() => expandEnv('url: ${NOPE}', {}, 'f.yml')).toThrow(
      'f.yml: environment variable NOPE is not set',
    );
  });
});

describe('queries', () => {
  it('substitute ${v}, [[v]] and $v, and refuse an unknown variable', () => {
    const vars = { prefix: 't_a', ...builtins({ from: 0, to: 900 }) };
    expect(interpolate('x{prefix="$prefix"}[$__rate_interval] ${prefix} [[prefix]]', vars)).toBe(
      'x{prefix="t_a"}[60s] t_a t_a',
    );
    expect(() => interpolate('$job', vars)).toThrow('unknown variable $job');
  });

  it('size $__range and $__interval from the time range', () => {
    expect(builtins({ from: 0, to: 3600 })).toEqual({
      __range: '3600s',
      __interval: '30s',
      __rate_interval: '60s',
    });
    expect(builtins({ from: 0, to: 86_400 }).__rate_interval).toBe('735s');
  });

  it('read Grafana relative times', () => {
    expect(parseTime('now-15m', 10_000)).toBe(9_100);
    expect(parseTime('now', 10_000)).toBe(10_000);
    expect(() => parseTime('yesterday')).toThrow(/use now/);
  });
});

describe('rendering', () => {
  it('formats Grafana units', () => {
    expect(formatValue(0.0123, 's')).toBe('12.3 ms');
    expect(formatValue(0.25, 'percentunit')).toBe('25 %');
    expect(formatValue(12_345, 'short')).toBe('12,345');
  });

  it('escapes data: a label value never becomes markup', () => {
    const { dashboards } = loadProvisioning(GRAFANA, env);
    const dashboard = dashboards[0]?.dashboard;
    if (!dashboard) throw new Error('no dashboard');
    const evil = '<script>alert(1)</script>';
    const html = dashboardPage({
      dashboard,
      all: [dashboard],
      results: dashboard.panels.map((panel) => ({
        panel,
        targets: [{ refId: 'A', query: '', frame: { kind: 'table', columns: ['c'], rows: [[evil]] } }],
      })),
      vars: { prefix: evil },
      options: { prefix: [evil] },
      from: 'now-1h',
      range: { from: 0, to: 3600 },
      generatedAt: new Date(0),
    });
    expect(html).not.toContain(evil);
    expect(html).toContain('&lt;script&gt;');
  });
});
