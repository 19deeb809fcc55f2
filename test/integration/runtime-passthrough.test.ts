import { describe, expect, it } from 'vitest';
import type { LeadRejection, RawLead, StandardizedLead } from '../../schemas/generated.ts';
import { frame } from '../../services/runtime/codec.ts';
import { produceRaw, produceRawLeads, rawLead, readTopic, waitFor } from '../fixtures/runtime/harness.ts';
import { usePassthrough } from '../fixtures/runtime/hooks.ts';

const N = 10_000;
const ctx = usePassthrough('pass');

describe('runtime pass-through service (child process, real Kafka + registry)', () => {
  it('copies every one of 10,000 records exactly once', async () => {
    const iso = ctx.iso();
    await produceRawLeads(iso, N);
    const read = await readTopic<StandardizedLead>(iso, iso.topics.standardized, 'StandardizedLead', N);
    const ids = read.map((r) => r.value?.meta.lead_id);
    expect(ids.every((id) => id !== undefined)).toBe(true);
    expect(new Set(ids).size).toBe(N);
    expect(read.length).toBe(N);
    const sample = read.find((r) => r.value?.meta.lead_id === 'batch_rt:1234')?.value;
    expect(sample?.lead.email).toBe('person1234@example.com');
    expect(sample?.lead.extras).toEqual({ seq: '1234' });
    expect(read.find((r) => r.value?.meta.lead_id === 'batch_rt:1234')?.message.key?.toString()).toBe(
      'batch_rt:1234',
    );
  });

  it('sends broken wire format to the DLQ with the original bytes and the five headers', async () => {
    const iso = ctx.iso();
    const encoder = await iso.codec.encoderFor<RawLead>(iso.topics.raw, 'RawLead');
    const good = encoder.encode(rawLead(1));
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(0x7fff_fff0, 1);
    const broken = [
      { key: 'bad-magic', value: Buffer.from('{"json":"not avro"}') },
      { key: 'unknown-id', value: unknownId },
      { key: 'truncated', value: good.subarray(0, good.length - 7) },
      {
        key: 'garbage-body',
        value: frame(encoder.schemaId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      },
    ];
    await produceRaw(iso, broken);
    const dlq = await readTopic<unknown>(iso, iso.topics.rawDlq, 'RawLead', broken.length);
    expect(dlq).toHaveLength(broken.length);
    const offsets = await iso.admin.fetchTopicOffsets(iso.topics.raw);
    for (const sent of broken) {
      const copy = dlq.find((d) => d.message.key?.toString() === sent.key)?.message;
      expect(copy, sent.key).toBeDefined();
      expect(copy?.value?.equals(sent.value)).toBe(true);
      const h = Object.fromEntries(Object.entries(copy?.headers ?? {}).map(([k, v]) => [k, String(v)]));
      expect(h.dlq_phase).toBe('passthrough');
      expect(h.dlq_topic).toBe(iso.topics.raw);
      const partition = Number(h.dlq_partition);
      const offset = Number(h.dlq_offset);
      const p = offsets.find((o) => o.partition === partition);
      expect(p).toBeDefined();
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(Number(p?.high));
      expect(h.dlq_reason).toBeTruthy();
    }
    const reason = (key: string) =>
      String(dlq.find((d) => d.message.key?.toString() === key)?.message.headers?.dlq_reason);
    expect(reason('bad-magic')).toMatch(/bad magic byte 123/);
    expect(reason('unknown-id')).toMatch(/unknown schema id 2147483632/);
    expect(reason('truncated')).toMatch(/undecodable RawLead/);
    expect(reason('garbage-body')).toMatch(/undecodable RawLead/);
  });

  it('routes reject to leads.failed, dlq and exhausted retries to the DLQ, and retries a flaky phase', async () => {
    const iso = ctx.iso();
    const base = 100_000;
    const emails = ['reject-me@x.com', 'dlq-me@x.com', 'flaky@x.com', 'broken@x.com'];
    await produceRawLeads(iso, emails.length, (i) => rawLead(base + i, { email: emails[i] ?? null }));
    const failed = await readTopic<LeadRejection>(iso, iso.topics.failed, 'LeadRejection', 1);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.value).toMatchObject({
      lead_id: `batch_rt:${base}`,
      account_id: 'acct_test',
      phase: 'passthrough',
      reason: 'test_reject',
      detail: 'asked to reject reject-me@x.com',
    });
    // 4 broken messages from the previous test + the dlq and the always-throwing ones.
    const dlq = await readTopic<RawLead>(iso, iso.topics.rawDlq, 'RawLead', 6);
    const byRow = new Map(dlq.filter((d) => d.value).map((d) => [d.value?.row_index, d.message]));
    expect(String(byRow.get(base + 1)?.headers?.dlq_reason)).toBe('asked for the DLQ by dlq-me@x.com');
    expect(String(byRow.get(base + 3)?.headers?.dlq_reason)).toBe(
      'failed after 3 attempts: dependency is down',
    );
    const out = await readTopic<StandardizedLead>(iso, iso.topics.standardized, 'StandardizedLead', N + 1);
    expect(out.filter((r) => r.value?.meta.lead_id === `batch_rt:${base + 2}`)).toHaveLength(1);
    expect(out).toHaveLength(N + 1);
  });

  it('serves /health and /metrics with the counts of what it did', async () => {
    const child = ctx.child();
    const health = await fetch(`http://127.0.0.1:${child.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ healthy: true, status: 'ok', connected: true });
    const metrics = await (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(metrics)?.[1]);
    expect(value(/leedrush_runtime_consumed_total\{[^}]*\} (\d+)/)).toBe(N + 8);
    expect(value(/leedrush_runtime_produced_total\{[^}]*\} (\d+)/)).toBe(N + 1);
    expect(value(/leedrush_runtime_rejected_total\{reason="test_reject"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/leedrush_runtime_dlq_total\{cause="decode"[^}]*\} (\d+)/)).toBe(4);
    expect(value(/leedrush_runtime_dlq_total\{cause="phase"[^}]*\} (\d+)/)).toBe(2);
    expect(value(/leedrush_runtime_retries_total\{kind="phase"[^}]*\} (\d+)/)).toBe(3);
    // The lag gauge is polled from the broker: every input partition is listed, and all gets consumed.
    await waitFor(
      'zero lag on every input partition',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
        const lags = [...text.matchAll(/leedrush_runtime_consumer_lag\{[^}]*partition="(\d)"[^}]*\} (\d+)/g)];
        return lags.length === 6 && lags.every((m) => m[2] === '0');
      },
      10_000,
    );
  });
});
