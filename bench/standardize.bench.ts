/**
 * npm run bench:standardize — throughput of phase 2: 200,000 generated leads (bench/lib/generate-leads.ts:
 * fourteen countries, messy casing, padding, mailto:, free-mail and broken rows) through standardizeLead,
 * in process, one core. The leads are built before the clock starts; one untimed pass warms the JIT;
 * then three timed runs, reported as their median in leads per wall-clock second and per CPU second
 * (the machine is shared: the CPU figure is what one core does when it is not taken by others), plus a
 * per-field profile (time per lead of each field module over the same leads). Writes
 * .bench/standardize.json.
 *
 *   npm run bench:standardize [-- --leads 200000 --runs 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RawLead } from '../schemas/generated.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { cleanField } from '../services/lib/text.ts';
import { standardizeCompany } from '../services/standardize/company.ts';
import { standardizeCountry } from '../services/standardize/country.ts';
import { companyDomain } from '../services/standardize/domain.ts';
import { standardizeEmail } from '../services/standardize/email.ts';
import { standardizeName } from '../services/standardize/name.ts';
import { type LeadOrigin, standardizeLead } from '../services/standardize/phase.ts';
import { standardizePhone } from '../services/standardize/phone.ts';
import { standardizeTitle } from '../services/standardize/title.ts';
import { generateLeads, LEAD_COLUMNS } from './lib/generate-leads.ts';

const { values: args } = parseArgs({
  options: { leads: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } },
});
const LEADS = Number(args.leads);
const RUNS = Number(args.runs);

/** A generated CSV row as ingest would hand it over: mapped columns, the rest in extras. */
function toRawLead(cells: string[], index: number): RawLead {
  const cell = (column: (typeof LEAD_COLUMNS)[number]) => cells[LEAD_COLUMNS.indexOf(column)] ?? null;
  return {
    account_id: 'acc_bench',
    batch_id: 'b_bench',
    row_index: index,
    source: 'csv',
    received_at: 1_764_300_000_000,
    email: cell('Email'),
    first_name: cell('First Name'),
    last_name: cell('Last Name'),
    full_name: null,
    title: cell('Job Title'),
    company: cell('Company'),
    website: cell('Website'),
    phone: cell('Phone'),
    country: cell('Country'),
    city: cell('City'),
    linkedin_url: cell('LinkedIn URL'),
    industry: cell('Industry'),
    employees: cell('Employees'),
    extras: { 'Lead Source': cell('Lead Source') ?? '', Notes: cell('Notes') ?? '' },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Run {
  seconds: number;
  /** CPU time (user + system) the run used: on a shared machine, the figure contention does not inflate. */
  cpuSeconds: number;
  ok: number;
  rejected: number;
  dlq: number;
}

function runOnce(leads: RawLead[]): Run {
  const origin: LeadOrigin = { topic: 'leads.raw', partition: 0, offset: '0' };
  let ok = 0;
  let rejected = 0;
  let dlq = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  for (const lead of leads) {
    const result = standardizeLead(lead, origin);
    if (result.kind === 'ok') ok++;
    else if (result.kind === 'reject') rejected++;
    else dlq++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ok,
    rejected,
    dlq,
  };
}

/** Microseconds per lead spent in each field module (one pass each, after the timed runs). */
function profile(leads: RawLead[]): Record<string, number> {
  const fields: Record<string, (lead: RawLead) => unknown> = {
    email: (l) => standardizeEmail(l.email),
    name: (l) => standardizeName(l),
    title: (l) => standardizeTitle(l.title),
    company: (l) => standardizeCompany(l.company),
    domain: (l) => companyDomain(l.website, standardizeEmail(l.email)?.email ?? null),
    country: (l) => standardizeCountry(l.country),
    phone: (l) => standardizePhone(l.phone, standardizeCountry(l.country)),
    text: (l) => [l.city, l.industry, l.employees, l.linkedin_url].map(cleanField),
  };
  const out: Record<string, number> = {};
  for (const [name, fn] of Object.entries(fields)) {
    const started = performance.now();
    for (const lead of leads) fn(lead);
    out[name] = Number((((performance.now() - started) * 1000) / leads.length).toFixed(2));
  }
  return out;
}

function main(): void {
  const loadBefore = loadavg();
  const leads = Array.from(generateLeads({ rows: LEADS }), (g, i) => toRawLead(g.cells, i));
  runOnce(leads.slice(0, Math.min(20_000, leads.length)));
  const runs = Array.from({ length: RUNS }, () => runOnce(leads));
  // Wall clock, and CPU time: the machine is shared, so the wall figure moves with the others' load.
  const rates = runs.map((r) => Math.round(LEADS / r.seconds));
  const cpuRates = runs.map((r) => Math.round(LEADS / r.cpuSeconds));
  const last = runs[runs.length - 1];
  const report = {
    bench: 'standardize',
    leads: LEADS,
    runs: RUNS,
    leads_per_s_median: median(rates),
    leads_per_s_runs: rates,
    leads_per_cpu_s_median: median(cpuRates),
    leads_per_cpu_s_runs: cpuRates,
    results: { ok: last?.ok, rejected: last?.rejected, dlq: last?.dlq },
    us_per_lead_by_field: profile(leads),
    node: process.version,
    cpu: cpus()[0]?.model,
    load_average_before: loadBefore.map((l) => Number(l.toFixed(2))),
    load_average_after: loadavg().map((l) => Number(l.toFixed(2))),
    cores: cpus().length,
    at: new Date().toISOString(),
  };
  const dir = join(REPO_ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'standardize.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `standardize: ${report.leads_per_s_median.toLocaleString('en')} leads/s (median of ${RUNS}: ${rates.join(', ')}) ` +
      `over ${LEADS.toLocaleString('en')} leads; ${report.leads_per_cpu_s_median.toLocaleString('en')} leads per CPU second; ` +
      `ok ${last?.ok}, rejected ${last?.rejected}, dlq ${last?.dlq}; load average ${report.load_average_after[0]}`,
  );
  console.log('µs per lead by field:', report.us_per_lead_by_field);
}

main();
