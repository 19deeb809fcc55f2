import { afterAll, describe, expect, it } from 'vitest';
import { status, up } from '../../scripts/stack/stack.ts';
import { CHAOS_DEFAULTS, type ChaosReport, chaosViolations, faultTable, runChaos } from '../support/chaos.ts';

// The chaos run (test/support/chaos.ts): a 20,000-row upload through the gateway app while each of the
// seven services is SIGKILLed mid-batch and restarted, the stack's Kafka broker and Redis are restarted,
// and ClickHouse is down for 60 s as the sink receives the batch (the sink's crash falls inside that
// outage). It restarts components of the shared stack, so the sequencer runs this file after every
// other one, and it leaves every component up and answering.

afterAll(async () => {
  await up();
  const rows = await status();
  expect(rows.filter((r) => !r.healthy).map((r) => r.name)).toEqual([]);
}, 300_000);

describe('chaos: crashes and restarts under a 20,000-row batch', () => {
  it('completes with every row once, the same outcome as without faults, nothing delivered or charged twice', async () => {
    const report: ChaosReport = await runChaos({
      ...CHAOS_DEFAULTS,
      log: (line) => console.log(`chaos: ${line}`),
    });
    console.log(
      `${faultTable(report)}\ncounts: ${JSON.stringify(report.counts)}\nduration ${report.durationS} s`,
    );
    expect(chaosViolations(report)).toEqual([]);
    // The figures behind the invariants, so a failure shows them.
    const { counts, backPressure, batch } = report;
    expect(batch).toMatchObject({ status: 'completed', rows_total: counts.rows, rows_done: counts.rows });
    expect(counts.clickhouseLeads + counts.clickhouseRejections).toBe(counts.rows);
    expect(counts.clickhouseQualified).toBe(counts.embeddedQualified);
    expect(counts.clickhouseQualified).toBeGreaterThan(counts.rows / 2);
    expect(counts.distinctDeliveries).toBe(counts.deliveries);
    expect(counts.usageConsumed).toBe(counts.chargeable);
    expect(backPressure.committedLate).toBe(backPressure.committedEarly);
    expect(backPressure.sinkRssMaxMiB).toBeLessThan(backPressure.boundMiB);
    // Each fault hit work in flight and healed; the sink's crash falls inside ClickHouse's outage.
    expect(report.faults.map((f) => f.fault)).toEqual([
      'SIGKILL ingest',
      'SIGKILL standardize',
      'SIGKILL verify',
      'SIGKILL enrich',
      'SIGKILL dedupe',
      'restart kafka',
      'restart redis',
      'SIGKILL score',
      'SIGKILL sink',
      `ClickHouse down ${CHAOS_DEFAULTS.clickhouseDownMs / 1000} s`,
    ]);
  }, 480_000);
});
