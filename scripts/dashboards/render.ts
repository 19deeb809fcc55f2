/**
 * Server-rendered pages of the dashboard server: one HTML page per dashboard, its panels laid out by
 * their Grafana gridPos (24 columns), time series as inline SVG, stats as numbers, tables as tables. No
 * script at all: the page reloads itself (meta refresh) at the dashboard's refresh interval.
 */
import type { Dashboard, Panel } from './model.ts';
import { type Frame, hasData, type PanelResult, type Series, type TimeRange } from './query.ts';

const PALETTE = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0'];
const ROW_PX = 34;

export const RANGES = ['now-5m', 'now-15m', 'now-1h', 'now-6h', 'now-24h', 'now-7d'] as const;

export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** A value in the panel's Grafana unit. */
export function formatValue(value: number, unit: string | undefined): string {
  if (!Number.isFinite(value)) return String(value);
  const n = (v: number, digits = 2) =>
    Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toFixed(digits)));
  switch (unit) {
    case 'percentunit':
      return `${n(value * 100, 1)} %`;
    case 's':
      return value < 1 ? `${n(value * 1000, 1)} ms` : `${n(value)} s`;
    case 'ops':
      return `${n(value)}/s`;
    case 'reqps':
      return `${n(value)} req/s`;
    default:
      return n(value);
  }
}

/** A series' samples that are numbers: histogram_quantile over no traffic gives NaN, which draws nothing. */
const finite = (s: Series) => s.points.filter((p) => Number.isFinite(p[1]));

function seriesSvg(series: Series[], unit: string | undefined, height: number, range: TimeRange): string {
  const vs = series.flatMap((s) => finite(s).map((p) => p[1]));
  // The whole queried range, as Grafana draws it: a batch of a minute sits where it happened.
  const [t0, t1] = [range.from, range.to];
  const [v0, v1] = [Math.min(0, ...vs), Math.max(...vs, 0)];
  const W = 600;
  const H = Math.max(60, height);
  const x = (t: number) => (t1 === t0 ? W / 2 : ((t - t0) / (t1 - t0)) * W);
  const y = (v: number) => (v1 === v0 ? H / 2 : H - ((v - v0) / (v1 - v0)) * (H - 4) - 2);
  const lines = series
    .map((s, i) => {
      const color = PALETTE[i % PALETTE.length];
      const path = finite(s)
        .map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
        .join(' ');
      return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`;
    })
    .join('');
  const time = (t: number) => new Date(t * 1000).toISOString().slice(11, 19);
  return `<div class="axis"><span>${escapeHtml(formatValue(v1, unit))}</span></div>
<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" style="height:${H}px">${lines}</svg>
<div class="axis"><span>${escapeHtml(formatValue(v0, unit))}</span><span>${time(t0)}–${time(t1)} UTC</span></div>`;
}

function legendHtml(series: Series[], unit: string | undefined): string {
  const items = series.map((s, i) => {
    const values = finite(s).map((p) => p[1]);
    const last = values.at(-1) ?? Number.NaN;
    const max = values.length ? Math.max(...values) : Number.NaN;
    return `<li><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(s.name)}
<b>last ${escapeHtml(formatValue(last, unit))}</b> <b>max ${escapeHtml(formatValue(max, unit))}</b></li>`;
  });
  return `<ul class="legend">${items.join('')}</ul>`;
}

function statHtml(series: Series[], unit: string | undefined): string {
  return `<div class="stats">${series
    .map((s) => {
      const last = finite(s).at(-1)?.[1] ?? Number.NaN;
      return `<div class="stat"><div class="big">${escapeHtml(formatValue(last, unit))}</div>
<div class="name">${escapeHtml(s.name === 'value' ? '' : s.name)}</div></div>`;
    })
    .join('')}</div>`;
}

function tableHtml(frame: Frame, unit: string | undefined): string {
  const { columns, rows } =
    frame.kind === 'table'
      ? frame
      : {
          columns: ['series', 'value'],
          rows: frame.series.map((s) => [s.name, formatValue(s.points.at(-1)?.[1] ?? Number.NaN, unit)]),
        };
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v === null ? '—' : v)}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function mergedFrame(result: PanelResult): Frame | undefined {
  const frames = result.targets.flatMap((t) => (t.frame ? [t.frame] : []));
  if (!frames.length) return undefined;
  if (frames.every((f) => f.kind === 'series'))
    return { kind: 'series', series: frames.flatMap((f) => (f.kind === 'series' ? f.series : [])) };
  return frames[0];
}

function panelBody(panel: Panel, result: PanelResult, range: TimeRange): string {
  const errors = result.targets.filter((t) => t.error);
  if (errors.length)
    return errors
      .map(
        (t) => `<div class="error" data-state="error">${escapeHtml(t.refId)}: ${escapeHtml(t.error)}</div>`,
      )
      .join('');
  const frame = mergedFrame(result);
  if (!frame || !hasData(frame)) return '<div class="nodata" data-state="nodata">No data</div>';
  const unit = panel.fieldConfig?.defaults.unit;
  const height = panel.gridPos.h * ROW_PX - 90;
  if (panel.type === 'table') return tableHtml(frame, unit);
  if (frame.kind !== 'series') return tableHtml(frame, unit);
  if (panel.type === 'stat') return statHtml(frame.series, unit);
  return seriesSvg(frame.series, unit, height, range) + legendHtml(frame.series, unit);
}

export interface PageInput {
  dashboard: Dashboard;
  all: Dashboard[];
  results: PanelResult[];
  vars: Record<string, string>;
  options: Record<string, string[]>;
  from: string;
  range: TimeRange;
  generatedAt: Date;
}

function variableForm(input: PageInput): string {
  const fields = input.dashboard.templating.list.map((v) => {
    const name = `var-${v.name}`;
    const label = escapeHtml(v.label ?? v.name);
    const current = input.vars[v.name] ?? '';
    if (v.type === 'query') {
      const opts = (input.options[v.name] ?? [])
        .map((o) => `<option${o === current ? ' selected' : ''}>${escapeHtml(o)}</option>`)
        .join('');
      return `<label>${label} <select name="${name}">${opts}</select></label>`;
    }
    return `<label>${label} <input name="${name}" value="${escapeHtml(current)}"></label>`;
  });
  const ranges = RANGES.map(
    (r) => `<option${r === input.from ? ' selected' : ''} value="${r}">last ${r.slice(4)}</option>`,
  ).join('');
  return `<form method="get">${fields.join('')}<label>Range <select name="from">${ranges}</select></label>
<button type="submit">Apply</button></form>`;
}

const STYLE = `body{margin:0;font:13px system-ui,sans-serif;background:#111217;color:#ccccdc}
header{padding:8px 16px;background:#181b1f;border-bottom:1px solid #2c3235;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:18px;margin:0;color:#fff}header nav a{color:#6e9fff;margin-right:10px}
form label{margin-right:10px}select,input,button{background:#0b0c0e;color:#ccccdc;border:1px solid #2c3235;padding:3px}
.grid{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:${ROW_PX}px;gap:8px;padding:8px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 10px;overflow:auto}
.panel h2{font-size:13px;margin:0 0 4px;color:#fff}.panel .desc{font-size:11px;color:#8e8e9e;margin-bottom:4px}
svg{width:100%;display:block;background:#111217}.axis{display:flex;justify-content:space-between;font-size:10px;color:#8e8e9e}
.legend{list-style:none;padding:0;margin:4px 0 0;font-size:11px}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
.legend b{font-weight:normal;color:#8e8e9e;margin-left:8px}.stats{display:flex;gap:18px;flex-wrap:wrap}
.stat .big{font-size:28px;color:#73bf69}.stat .name{font-size:11px;color:#8e8e9e}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #2c3235;padding:2px 6px;text-align:left}
.error{color:#ff7383;white-space:pre-wrap}.nodata{color:#8e8e9e;font-size:16px;padding:12px}footer{padding:4px 16px;color:#8e8e9e;font-size:11px}`;

export function dashboardPage(input: PageInput): string {
  const { dashboard } = input;
  const query = new URLSearchParams({
    ...Object.fromEntries(dashboard.templating.list.map((v) => [`var-${v.name}`, input.vars[v.name] ?? ''])),
    from: input.from,
  });
  const nav = input.all
    .map(
      (d) => `<a href="/d/${escapeHtml(d.uid)}?${escapeHtml(query.toString())}">${escapeHtml(d.title)}</a>`,
    )
    .join('');
  const panels = input.results.map(({ panel }, i) => {
    const g = panel.gridPos;
    const style = `grid-column:${g.x + 1} / span ${g.w};grid-row:${g.y + 1} / span ${g.h}`;
    return `<section class="panel" data-panel="${panel.id}" style="${style}"><h2>${escapeHtml(panel.title)}</h2>
<div class="desc">${escapeHtml(panel.description)}</div>${panelBody(panel, input.results[i] as PanelResult, input.range)}</section>`;
  });
  const refresh = /^(\d+)s$/.exec(dashboard.refresh ?? '')?.[1];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(dashboard.title)}</title>
${refresh ? `<meta http-equiv="refresh" content="${refresh}">` : ''}<style>${STYLE}</style></head><body>
<header><h1>${escapeHtml(dashboard.title)}</h1><nav>${nav}</nav>${variableForm(input)}</header>
<div class="grid">${panels.join('\n')}</div>
<footer>Rendered ${escapeHtml(input.generatedAt.toISOString())} from grafana/dashboards (the files a Grafana imports).</footer>
</body></html>`;
}

export function indexPage(all: Dashboard[]): string {
  const items = all
    .map(
      (d) =>
        `<li><a href="/d/${escapeHtml(d.uid)}">${escapeHtml(d.title)}</a> — ${escapeHtml(d.description)}</li>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Leedrush dashboards</title>
<style>${STYLE} li{margin:6px 0} a{color:#6e9fff}</style></head><body><header><h1>Leedrush dashboards</h1></header>
<ul>${items}</ul></body></html>`;
}

export function errorPage(status: number, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title><style>${STYLE}</style></head>
<body><header><h1>${status}</h1></header><p class="error">${escapeHtml(detail)}</p></body></html>`;
}
