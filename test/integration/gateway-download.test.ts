import { afterAll, describe, expect, it } from 'vitest';
import { leadRow } from '../../services/sink/rows.ts';
import { RESULT_STATUSES, scoredLead, testGateway } from '../support/gateway.ts';

const gw = await testGateway('gwdl');
afterAll(() => gw.close());

type Json = Record<string, unknown>;

/** A batch whose leads are in ClickHouse (each written twice, as a redelivery would) and counted. */
async function storedBatch(accountId: string, rows: number, complete: boolean) {
  const batch = await gw.deps.batches.create(
    {
      account_id: accountId,
      filename: 'my leads.csv',
      file_path: '/uploads/x.csv',
      source: 'csv',
      rows_total: rows,
    },
    null,
  );
  if (!batch) throw new Error('not created');
  const leads = Array.from({ length: rows }, (_, i) => scoredLead(accountId, batch.batch_id, i));
  for (const version of [1, 2]) {
    await gw.deps.clickhouse.insert({
      table: 'leads',
      values: leads.map((l) => leadRow(l, Date.now(), version)),
      format: 'JSONEachRow',
    });
  }
  const done = complete ? rows : rows - 1;
  for (let i = 0; i < done; i++) {
    const status = RESULT_STATUSES[i % 4] as string;
    await gw.deps.batches.recordTerminal(batch.batch_id, accountId, i, status.toLowerCase() as 'qualified');
  }
  return batch.batch_id;
}

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
