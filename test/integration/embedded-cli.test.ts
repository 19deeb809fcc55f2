import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_KEYS, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { openUpload } from '../../services/ingest/reader/index.ts';
import { CSV_COLUMNS, type LeadObject } from '../../services/lib/lead-object.ts';
import { provenanceKind } from '../../services/lib/provenance.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';

// The real CLI as a user runs it (bin/leedrush.mjs in a child process) against a real DNS server
// (dnsmasq) on loopback, on a small file whose every row has a known fate.

const BIN = resolve(import.meta.dirname, '../../bin/leedrush.mjs');
/** The sample file of the README's first command. */
const SAMPLE = resolve(import.meta.dirname, '../fixtures/samples/leads.csv');

const LEADS = [
  'email,first name,last name,title,company,website,phone',
  /* 0 */ 'ann.lee@northwind.test,Ann,Lee,VP Sales,Northwind Traders Inc,northwind.test,+1 415 555 0101',
  /* 1: row 0 re-exported in capitals */ 'ANN.LEE@NORTHWIND.TEST,ANN,LEE,VP of Sales,Northwind Traders,www.northwind.test,4155550101',
  /* 2: domain does not exist */ 'bob.stone@nowhere-at-all.test,Bob,Stone,Sales Manager,Nowhere Ltd,,',
  /* 3: formula cells */ 'carl.diaz@northwind.test,=HYPERLINK("http://evil.test"),Diaz,CTO,@SUM(1+1),northwind.test,+1 415 555 0199',
  /* 4: nothing to reach anyone with */ ',,,Intern,,,',
  /* 5 */ 'dana.fox@contoso.test,Dana,Fox,Director of Marketing,Contoso,contoso.test,+1 212 555 0142',
  /* 6: swapped first/last name of row 5 */ 'dana.fox@contoso.test,Fox,Dana,Director of Marketing,Contoso,contoso.test,',
  /* 7: truncated export, unterminated quote */ '"erin.moss@contoso.test,Erin,Moss',
].join('\r\n');

let dns: DnsServer;
let dir: string;

beforeAll(async () => {
  dns = await startDnsServer({
    zone: 'test',
    ttlS: 60,
    mx: [
      { domain: 'northwind.test', host: 'mx.northwind.test', preference: 10 },
      { domain: 'contoso.test', host: 'mx.contoso.test', preference: 10 },
    ],
    a: [
      { name: 'mx.northwind.test', address: '127.0.0.1' },
      { name: 'mx.contoso.test', address: '127.0.0.1' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'leedrush-embedded-'));
  writeFileSync(join(dir, 'leads.csv'), LEADS);
  writeFileSync(join(dir, 'no-email.csv'), 'name,company\nAnn Lee,Northwind\n');
});

afterAll(async () => {
  await dns?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function leedrush(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', DNS_SERVERS: dns.address, DNS_CANARY: 'northwind.test', ...env },
      },
      (err, stdout, stderr) => done({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

/** A number of the summary table, by its label. */
function summary(stderr: string, label: string): number {
  const m = new RegExp(`^\\s+${label}[^\\n]*?\\s(\\d+(?:\\.\\d+)?)( %| s)?$`, 'm').exec(stderr);
  if (!m?.[1]) throw new Error(`no "${label}" in the summary:\n${stderr}`);
  return Number(m[1]);
}

describe('leedrush run (embedded mode)', () => {
  it('accounts for every row once, with the duplicates pointing at their survivors', async () => {
    const run = await leedrush([
      'run',
      'leads.csv',
      '--out',
      'all.json',
      '--format',
      'json',
      '--include',
      'all',
    ]);
    expect(run.stderr).not.toMatch(/unreachable/);
    expect(run.code).toBe(0);
    const leads = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8')) as LeadObject[];
    const byRow = new Map(leads.map((l) => [l.row_index, l]));

    const [rows, qualified, rejected, invalid, duplicates, failed] = [
      'rows',
      'qualified',
      'rejected',
      'invalid',
      'duplicates',
      'failed',
    ].map((k) => summary(run.stderr, k)) as [number, number, number, number, number, number];
    expect(rows).toBe(8);
    expect(qualified + rejected + invalid + duplicates + failed).toBe(rows);
    expect(failed).toBe(2);
    // Rows 4 (no contact) and 7 (unreadable) are the failed ones; every other row is one lead.
    expect(leads.map((l) => l.row_index).sort()).toEqual([0, 1, 2, 3, 5, 6]);
    const status = (s: string) => leads.filter((l) => l.status === s).length;
    expect([status('QUALIFIED'), status('REJECTED'), status('INVALID'), status('DUPLICATE')]).toEqual([
      qualified,
      rejected,
      invalid,
      duplicates,
    ]);

    expect(byRow.get(1)?.status).toBe('DUPLICATE');
    expect(byRow.get(1)?.duplicate_of).toBe(byRow.get(0)?.lead_id);
    expect(byRow.get(6)?.status).toBe('DUPLICATE');
    expect(byRow.get(6)?.duplicate_of).toBe(byRow.get(5)?.lead_id);
    expect(byRow.get(0)?.contact.email_status).toBe('deliverable');
    expect(byRow.get(2)?.status).toBe('INVALID');
    expect(byRow.get(2)?.contact.email_status).toBe('invalid_domain');
    // No provider key and no --sandbox: no provider asked, nothing invented, no cost to report.
    expect(run.stderr).toMatch(/enrichment: no provider keys set, no provider asked/);
    expect(run.stderr).not.toMatch(/\$\d/);
    expect(leads.every((l) => l.account.signals.length === 0)).toBe(true);
    expect(byRow.get(0)?.provenance).toEqual({
      company_name: 'input',
      title_normalized: 'input',
      signals: null,
      technologies: null,
    });
    // Row 0's file gives no employee count, and nothing else could supply one or any signal.
    expect(byRow.get(0)?.evidence.missing).toEqual(['company_size', 'signals']);
  });

  it('with --sandbox enriches from the in-process sandbox, every such value labelled, at no cost', async () => {
    const run = await leedrush(['run', 'leads.csv', '--sandbox', '--out', 'sb.json', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    // The sandbox providers ran in the process for this run (and were closed: it exited).
    const enrichment =
      /enrichment: sandbox providers started at http:\/\/127\.0\.0\.1:\d+ for this run \(--sandbox\): invented test data, every value labelled sandbox:<provider>; (\d+) provider calls \(sandbox, no cost\)/.exec(
        run.stderr,
      );
    expect(enrichment, run.stderr).not.toBeNull();
    expect(Number(enrichment?.[1])).toBeGreaterThan(0);
    const leads = JSON.parse(readFileSync(join(dir, 'sb.json'), 'utf8')) as LeadObject[];
    const labels = leads.flatMap((l) => Object.values(l.provenance)).filter((v) => v !== null);
    expect(labels.some((v) => provenanceKind(v) === 'sandbox')).toBe(true);
    expect(labels.filter((v) => provenanceKind(v) === 'provider')).toEqual([]);
    // ENRICH_SANDBOX=1 is the same opt-in.
    const byEnv = await leedrush(['run', 'leads.csv', '--out', 'sb-env.json', '--format', 'json'], {
      ENRICH_SANDBOX: '1',
    });
    expect(byEnv.stderr).toMatch(/for this run \(--sandbox\)/);
    expect(readFileSync(join(dir, 'sb-env.json'), 'utf8')).toBe(readFileSync(join(dir, 'sb.json'), 'utf8'));
  });

  it('calls the providers whose real keys are set, at their configured addresses, and only those; a sandbox key is no key', async () => {
    const provider = await startSandbox();
    const asked = () => provider.state.requests;
    const total = (byEndpoint: Record<string, number>) =>
      Object.values(byEndpoint).reduce((a, b) => a + b, 0);
    try {
      // A key the sandbox does not know: it answers 401, but it was asked, as a live provider would be.
      const run = await leedrush(['run', 'leads.csv', '--out', 'live.csv'], {
        APOLLO_API_KEY: 'live-apollo-key',
        APOLLO_BASE_URL: provider.url,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        /enrichment: live providers apollo \(keys from the environment\); [1-9]\d* provider calls, \$\d+\.\d\d/,
      );
      const afterLive = total(asked().apollo);
      expect(afterLive).toBeGreaterThan(0);
      for (const other of ['clearbit', 'hunter', 'snov'] as const) expect(asked()[other]).toEqual({});

      // The sandbox's own key without the opt-in: not a provider key, nothing asked.
      const sandboxKey = await leedrush(['run', 'leads.csv', '--out', 'sk.csv'], {
        APOLLO_API_KEY: SANDBOX_KEYS.apollo,
        APOLLO_BASE_URL: provider.url,
      });
      expect(sandboxKey.code, sandboxKey.stderr).toBe(0);
      expect(sandboxKey.stderr).toMatch(/enrichment: no provider keys set/);
      expect(total(asked().apollo)).toBe(afterLive);
    } finally {
      await provider.close();
    }
  });

  it('writes only the qualified leads by default, formula cells neutralised', async () => {
    const run = await leedrush(['run', 'leads.csv', '--include', 'all', '--out', 'all.csv']);
    expect(run.code).toBe(0);
    const rows = parse(readFileSync(join(dir, 'all.csv')), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(rows.find((r) => r.row_index === '3')?.full_name).toMatch(/^'=/);

    const qualifiedOnly = await leedrush(['run', 'leads.csv']);
    expect(qualifiedOnly.code).toBe(0);
    const written = parse(readFileSync(join(dir, 'qualified.csv')), { columns: true }) as Record<
      string,
      string
    >[];
    expect(written.length).toBe(summary(qualifiedOnly.stderr, 'qualified'));
    expect(written.every((r) => r.status === 'QUALIFIED')).toBe(true);
  });

  it('says when the resolver cannot answer, and then calls no domain nonexistent', async () => {
    // dnsmasq serves only its zone: `com`, the default canary, goes unanswered.
    const run = await leedrush(
      ['run', 'leads.csv', '--format', 'json', '--include', 'all', '--out', 'x.json'],
      {
        DNS_CANARY: 'com',
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/dns: resolver .* unreachable/);
    const leads = JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')) as LeadObject[];
    expect(leads.find((l) => l.row_index === 2)?.contact.email_status).toBe('unknown');
  });

  it('fails clearly on a missing file, a file without an email column and bad flags', async () => {
    const missing = await leedrush(['run', 'nope.csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/file not found: nope\.csv/);

    const noEmail = await leedrush(['run', 'no-email.csv']);
    expect(noEmail.code).toBe(1);
    expect(noEmail.stderr).toMatch(/cannot read no-email\.csv \(no_email_column\): \S/);

    const badFlag = await leedrush(['run', 'leads.csv', '--format', 'xml']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--format must be csv or json/);
    const unknownFlag = await leedrush(['run', 'leads.csv', '--colour']);
    expect(unknownFlag.code).toBe(2);
  });

  /** The summary figures and lead objects of the sample file, all leads as JSON, DNS unanswered. */
  async function sampleRun(extra: string[]) {
    // dnsmasq serves only its zone: `com`, the default canary, goes unanswered, as on a machine without
    // Internet DNS (every email_status unknown), so the figures do not depend on the network.
    const out = `sample-${extra.length ? 'sandbox' : 'default'}.json`;
    const run = await leedrush(
      ['run', SAMPLE, '--format', 'json', '--include', 'all', '--out', out, ...extra],
      {
        DNS_CANARY: 'com',
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const labels = ['rows', 'qualified', 'rejected', 'invalid', 'duplicates', 'failed', 'yield'];
    const figures = Object.fromEntries(labels.map((k) => [k, summary(run.stderr, k)]));
    const leads = JSON.parse(readFileSync(join(dir, out), 'utf8')) as LeadObject[];
    return { run, figures, leads };
  }

  it('the sample file with no keys: no value from the sandbox, and no lead QUALIFIED on inputs it lacked', async () => {
    const { run, figures, leads } = await sampleRun([]);
    expect(figures).toEqual({
      rows: 202,
      qualified: 71,
      rejected: 121,
      invalid: 2,
      duplicates: 6,
      failed: 2,
      yield: 35.1,
    });
    expect(run.stderr).toMatch(/enrichment: no provider keys set, no provider asked/);
    expect(run.stderr).toMatch(
      /evidence: mean coverage \d+\.\d % of the scoring weight; leads missing an input: signals 200/,
    );

    // No output field holds a sandbox (or any provider) value: every enrichable value is the lead's own.
    const labels = leads.flatMap((l) => Object.values(l.provenance)).filter((v) => v !== null);
    expect(labels.length).toBeGreaterThan(leads.length);
    expect(new Set(labels)).toEqual(new Set(['input']));
    expect(leads.every((l) => l.account.signals.length === 0 && l.account.technologies.length === 0)).toBe(
      true,
    );

    // Every QUALIFIED lead qualified on what its row held: each factor that added to its score is one
    // whose input the row had, and signals (which no row carries) never count.
    // The rows as the pipeline's own reader reads them (the sample has broken rows on purpose).
    const rows = new Map<number, Partial<Record<string, string>>>();
    const upload = await openUpload(createReadStream(SAMPLE), { filename: 'leads.csv' });
    for await (const item of upload.items) if (item.kind === 'row') rows.set(item.rowIndex, item.fields);
    const has = (v: string | undefined) => v !== undefined && v.trim() !== '';
    const inputOf: Record<string, (row: Partial<Record<string, string>>) => boolean> = {
      email: (r) => has(r.email),
      phone: (r) => has(r.phone),
      completeness: () => true,
      seniority: (r) => has(r.title),
      department: (r) => has(r.title),
      company_size: (r) => /\d/.test(r.employees ?? ''),
      industry: (r) => has(r.industry),
      country: (r) => has(r.country),
      technologies: () => false,
      signals: () => false,
    };
    const qualified = leads.filter((l) => l.status === 'QUALIFIED');
    expect(qualified).toHaveLength(71);
    for (const lead of qualified) {
      const row = rows.get(lead.row_index);
      if (!row) throw new Error(`no row ${lead.row_index}`);
      for (const reason of lead.reasons) {
        expect(inputOf[reason.factor]?.(row), `row ${lead.row_index}: ${reason.factor}`).toBe(true);
      }
      expect(lead.evidence.missing).toContain('signals');
      expect(lead.evidence.coverage).toBeLessThan(1);
    }
  });

  it('the sample file with --sandbox gives the sandbox figures, each enriched value labelled sandbox', async () => {
    const { run, figures, leads } = await sampleRun(['--sandbox']);
    expect(figures).toEqual({
      rows: 202,
      qualified: 91,
      rejected: 101,
      invalid: 2,
      duplicates: 6,
      failed: 2,
      yield: 45,
    });
    expect(run.stderr).toMatch(/; 319 provider calls \(sandbox, no cost\)/);
    const enriched = leads
      .flatMap((l) => Object.values(l.provenance))
      .filter((v): v is string => v !== null && v !== 'input');
    expect(enriched.length).toBeGreaterThan(0);
    expect(enriched.every((v) => v.startsWith('sandbox:'))).toBe(true);
  });

  it('writes the provenance and evidence columns in CSV', async () => {
    const run = await leedrush(['run', 'leads.csv', '--sandbox', '--include', 'all', '--out', 'prov.csv']);
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(join(dir, 'prov.csv'), 'utf8');
    expect(text.split('\r\n')[0] ?? text.split('\n')[0]).toContain(CSV_COLUMNS.join(','));
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    const row0 = rows.find((r) => r.row_index === '0');
    expect(row0?.company_name_source).toBe('input');
    expect(Number(row0?.evidence_coverage)).toBeGreaterThan(0);
    expect(rows.some((r) => r.signals !== '' && r.signals_source?.startsWith('sandbox:'))).toBe(true);
  });
});
