import type { KafkaMessage, TopicMessages } from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { LeadRejection, RawLead } from '../../schemas/generated.ts';
import { AvroCodec, type Encoder, type SchemaSource } from '../../services/runtime/codec.ts';
import { runEmbedded } from '../../services/runtime/embedded.ts';
import { RuntimeMetrics } from '../../services/runtime/metrics.ts';
import type { PhaseDefinition } from '../../services/runtime/phase.ts';
import { type BatchIo, type Pipeline, processBatch } from '../../services/runtime/pipeline.ts';
import { dlq, drop, ok, reject } from '../../services/runtime/result.ts';
import { rawLead } from '../fixtures/runtime/harness.ts';
import { passthrough } from '../fixtures/runtime/passthrough-phase.ts';

function memorySource(): SchemaSource {
  const ids = new Map<string, number>();
  const texts = new Map<number, string>();
  return {
    schemaById: async (id) => texts.get(id),
    idForSchema: async (_subject, avsc) => {
      const id = ids.get(avsc) ?? ids.size + 1;
      ids.set(avsc, id);
      texts.set(id, avsc);
      return id;
    },
  };
}

const codec = new AvroCodec(memorySource());
const rawEncoder = await codec.encoderFor<RawLead>('in', 'RawLead');
const log = pino({ level: 'silent' });

function messages(leads: RawLead[]): KafkaMessage[] {
  return leads.map((lead, i) => ({
    key: Buffer.from(`k${i}`),
    value: rawEncoder.encode(lead),
    timestamp: '0',
    attributes: 0,
    offset: String(100 + i),
    headers: {},
  }));
}

async function pipelineFor<Out>(
  def: PhaseDefinition<RawLead, Out>,
  flushAt = 1_000,
): Promise<Pipeline<RawLead, Out>> {
  return {
    def,
    topics: { input: 'in', baseInput: 'leads.raw', output: 'out', failed: 'failed', dlq: 'in.dlq' },
    decoder: codec.decoderFor<RawLead>('RawLead'),
    encoder: def.output ? ((await codec.encoderFor('out', def.output.record)) as Encoder<Out>) : undefined,
    rejectionEncoder: await codec.encoderFor<LeadRejection>('failed', 'LeadRejection'),
    retry: { maxRetries: 1, baseMs: 1, capMs: 1 },
    concurrency: 4,
    flushAt,
    metrics: new RuntimeMetrics(new Registry()),
    log,
    stopping: () => false,
  };
}

/** Records every send and commit in order, like a broker that acknowledges everything. */
function memoryIo() {
  const events: string[] = [];
  const sent: TopicMessages[] = [];
  const io: BatchIo = {
    send: async (tm) => {
      sent.push(...tm);
      events.push(`send ${tm.map((t) => `${t.topic}:${t.messages.length}`).join(',')}`);
    },
    commit: async (offset) => {
      events.push(`commit ${offset}`);
    },
    heartbeat: async () => {},
  };
  const decodeOut = async (topic: string) => {
    const d = codec.decoderFor<RawLead>('RawLead');
    const values = sent
      .filter((t) => t.topic === topic)
      .flatMap((t) => t.messages.map((m) => m.value as Buffer));
    await d.prepare(values);
    return values.map((v) => d.decode(v));
  };
  return { io, events, sent, decodeOut };
}

const echo = (async: boolean): PhaseDefinition<RawLead, RawLead> => ({
  name: 'echo',
  input: { topic: 'leads.raw', record: 'RawLead' },
  output: { topic: 'leads.raw', record: 'RawLead' },
  // Later rows finish first, so order can only come from the runtime.
  phase: (lead) =>
    async
      ? new Promise((resolve) => setTimeout(() => resolve(ok(lead)), 20 - ((lead.row_index ?? 0) % 20)))
      : ok(lead),
});

describe('processBatch', () => {
  it('keeps the partition order of outputs with concurrent asynchronous phases, then commits the batch', async () => {
    const m = memoryIo();
    await processBatch(
      await pipelineFor(echo(true)),
      { partition: 0, messages: messages(Array.from({ length: 60 }, (_, i) => rawLead(i))) },
      m.io,
    );
    const out = await m.decodeOut('out');
    expect(out.map((d) => d.ok && d.value.row_index)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(m.events).toEqual(['send out:60', 'commit 159']);
  });

  it('runs the admission step first: held-back inputs skip the phase, its records join the one send, re-admitted messages report their origin', async () => {
    const seen: string[] = [];
    const def: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      phase: (lead, ctx) => {
        seen.push(`${lead.row_index}@${ctx.partition}:${ctx.offset}`);
        return ok(lead);
      },
    };
    const admittedAt: string[] = [];
    const p: Pipeline<RawLead, RawLead> = {
      ...(await pipelineFor(def)),
      admission: {
        admit: async (items) => {
          admittedAt.push(...items.map((i) => `${i.ctx.partition}:${i.ctx.offset}`));
          return {
            admitted: items.map((i) => (i.input.row_index ?? 0) % 2 === 0),
            messages: [{ topic: 'usage', messages: [{ key: 'acc', value: Buffer.from('movement') }] }],
          };
        },
      },
    };
    const m = memoryIo();
    const msgs = messages(Array.from({ length: 4 }, (_, i) => rawLead(i)));
    (msgs[2] as KafkaMessage).headers = {
      'leedrush-origin': Buffer.from('5:42'),
      'leedrush-readmit': Buffer.from('1'),
    };
    await processBatch(p, { partition: 1, messages: msgs }, m.io);
    expect(admittedAt).toEqual(['1:100', '1:101', '5:42', '1:103']);
    expect(seen).toEqual(['0@1:100', '2@5:42']);
    expect(m.events).toEqual(['send usage:1,out:2', 'commit 103']);
  });

  it('routes ok, reject, dlq and drop, and counts them only after the send', async () => {
    const def: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      phase: (lead) =>
        [ok(lead), reject('missing_email', 'no email'), dlq('poison'), drop()][(lead.row_index ?? 0) % 4] ??
        drop(),
      rejectionOf: passthrough.rejectionOf as never,
    };
    const p = await pipelineFor(def);
    const m = memoryIo();
    await processBatch(
      p,
      { partition: 2, messages: messages(Array.from({ length: 8 }, (_, i) => rawLead(i))) },
      m.io,
    );
    expect(m.events).toEqual(['send out:2,failed:2,in.dlq:2', 'commit 107']);
    const dlqCopy = m.sent.find((t) => t.topic === 'in.dlq')?.messages[0];
    expect(dlqCopy?.headers).toMatchObject({
      dlq_reason: 'poison',
      dlq_phase: 'echo',
      dlq_topic: 'in',
      dlq_partition: '2',
      dlq_offset: '102',
    });
    const metrics = await p.metrics.registry.getMetricsAsJSON();
    const count = (name: string) =>
      metrics.find((x) => x.name === name)?.values.reduce((s, v) => s + v.value, 0);
    expect(count('leedrush_runtime_produced_total')).toBe(2);
    expect(count('leedrush_runtime_rejected_total')).toBe(2);
    expect(count('leedrush_runtime_dlq_total')).toBe(2);
    expect(count('leedrush_runtime_dropped_total')).toBe(2);
  });

  it('streams an expanding phase in acknowledged chunks, committing each input once its stream is done', async () => {
    let pulled = 0;
    const def: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      expand: async function* (lead) {
        for (let i = 0; i < 25; i++) {
          pulled++;
          yield ok({ ...lead, row_index: (lead.row_index ?? 0) * 100 + i });
        }
      },
    };
    delete (def as { phase?: unknown }).phase;
    const m = memoryIo();
    const io: BatchIo = {
      ...m.io,
      send: async (tm) => {
        // Back-pressure: nothing more is pulled while a chunk waits for its acknowledgement.
        const before = pulled;
        await new Promise((r) => setTimeout(r, 5));
        expect(pulled).toBe(before);
        return m.io.send(tm);
      },
    };
    await processBatch(
      await pipelineFor(def, 10),
      { partition: 0, messages: messages([rawLead(1), rawLead(2)]) },
      io,
    );
    // 25 + 25 records in chunks of 10; input 100 is committed as soon as a flush follows its stream.
    expect(m.events).toEqual([
      'send out:10',
      'send out:10',
      'send out:10',
      'commit 100',
      'send out:10',
      'send out:10',
      'commit 101',
    ]);
    const out = await m.decodeOut('out');
    expect(out).toHaveLength(50);
  });

  it('restarts a stream that threw and skips what it already routed', async () => {
    let failures = 0;
    const def: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      expand: function* (lead) {
        for (let i = 0; i < 6; i++) {
          if (i === 3 && failures++ === 0) throw new Error('upload store timeout');
          yield ok({ ...lead, row_index: i });
        }
      },
    };
    delete (def as { phase?: unknown }).phase;
    const m = memoryIo();
    await processBatch(await pipelineFor(def), { partition: 0, messages: messages([rawLead(0)]) }, m.io);
    const out = await m.decodeOut('out');
    expect(out.map((d) => d.ok && d.value.row_index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('calls a batch phase with all inputs at once and DLQs them all when it keeps failing', async () => {
    const calls: number[] = [];
    const def: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      maxBatch: 3,
      batch: async (inputs) => {
        calls.push(inputs.length);
        if (inputs.some((l) => l.email === 'down@x.com')) throw new Error('clickhouse down');
        return inputs.map((l) => ok(l));
      },
    };
    delete (def as { phase?: unknown }).phase;
    const m = memoryIo();
    const leads = Array.from({ length: 7 }, (_, i) => rawLead(i, i === 6 ? { email: 'down@x.com' } : {}));
    await processBatch(await pipelineFor(def), { partition: 0, messages: messages(leads) }, m.io);
    expect(calls).toEqual([3, 3, 1, 1]);
    expect(m.events).toEqual(['send out:6,in.dlq:1', 'commit 106']);
  });
});

describe('runEmbedded', () => {
  it('chains phases in-process with the same result semantics and Avro hand-offs', async () => {
    const upper: PhaseDefinition<RawLead, RawLead> = {
      ...echo(false),
      name: 'upper',
      phase: (lead) =>
        ok({ ...lead, company: lead.company?.toUpperCase() ?? null, not_in_schema: 1 } as RawLead),
    };
    const inputs = [
      rawLead(0),
      rawLead(1, { email: 'reject@x.com' }),
      rawLead(2, { email: 'dlq@x.com' }),
      rawLead(3),
    ];
    const result = await runEmbedded<RawLead>([upper, passthrough], inputs);
    expect(result.outputs.map((o) => (o as never as { meta: { lead_id: string } }).meta.lead_id)).toEqual([
      'batch_rt:0',
      'batch_rt:3',
    ]);
    expect(result.rejections).toMatchObject([
      { reason: 'test_reject', phase: 'passthrough', lead_id: 'batch_rt:1' },
    ]);
    expect(result.errors).toMatchObject([{ phase: 'passthrough', reason: 'asked for the DLQ by dlq@x.com' }]);
    expect((result.outputs[0] as never as { lead: { company_name: string } }).lead.company_name).toBe(
      'ANALYTICAL ENGINES LTD',
    );
    expect(JSON.stringify(result.outputs[0])).not.toContain('not_in_schema');
  });
});
