/**
 * The pass-through service of bench:runtime with @platformatic/kafka instead of kafkajs, as a child
 * process: the same work as test/support/passthrough-service.ts (consumer group on the raw topic, decode
 * with the project's codec, the `passthrough` phase, encode, produce acks=all idempotent, commit only
 * after the acknowledgement), so the benchmark compares the Kafka clients, not two pipelines. It is not
 * the runtime: no retries, DLQ, metrics or health; anything but an `ok` result stops it, since the bench
 * feeds clean leads only. PASSTHROUGH_GROUP names its consumer group.
 */
import { Consumer, type Message, type MessagesStream, ProduceAcks, Producer } from '@platformatic/kafka';
import type { RawLead, StandardizedLead } from '../../schemas/generated.ts';
import { loadConfigOrExit } from '../../services/lib/config.ts';
import { topicName } from '../../services/lib/names.ts';
import {
  AvroCodec,
  createLogger,
  type PhaseContext,
  registrySchemaSource,
} from '../../services/runtime/index.ts';
import type { MapPhase } from '../../services/runtime/phase.ts';
import { produceRequests } from '../../services/runtime/runner.ts';
import { passthrough } from '../../test/fixtures/runtime/passthrough-phase.ts';

/** Batches produced but not yet committed: CPU work on the next batch overlaps the previous round trip. */
const MAX_IN_FLIGHT = 2;

const config = loadConfigOrExit();
const group = process.env.PASSTHROUGH_GROUP;
if (!group) throw new Error('PASSTHROUGH_GROUP is required');
const def = passthrough as MapPhase<RawLead, StandardizedLead>;
const prefix = config.LEEDRUSH_PREFIX;
const input = topicName(prefix, def.input.topic);
const output = topicName(prefix, (def.output as { topic: string }).topic);
const log = createLogger('leedrush-passthrough-platformatic', config.LOG_LEVEL);
const codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
const decoder = codec.decoderFor<RawLead>(def.input.record);
const encoder = await codec.encoderFor<StandardizedLead>(
  output,
  (def.output as { record: 'StandardizedLead' }).record,
);

// No serialisers given: keys and values stay Buffers, so the codec (not the client) does Avro.
const producer = new Producer({
  clientId: 'leedrush-passthrough-platformatic',
  bootstrapBrokers: config.KAFKA_BROKERS,
  idempotent: true,
  acks: ProduceAcks.ALL,
  timeout: 30_000,
});
const consumer = new Consumer({
  clientId: 'leedrush-passthrough-platformatic',
  bootstrapBrokers: config.KAFKA_BROKERS,
  groupId: group,
  // The default commits what was fetched on a timer, before it is produced: commits are ours.
  autocommit: false,
  // The kafkajs runner's fetch sizing (runner.ts), so both clients fetch the same batches.
  maxBytes: 16 << 20,
  maxBytesPerPartition: 1 << 20,
  maxWaitTime: 250,
  sessionTimeout: config.RUNTIME_SESSION_TIMEOUT_MS,
});
const stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> = await consumer.consume({
  topics: [input],
  mode: 'committed',
  fallbackMode: 'earliest',
});

type Out = { topic: string; key: Buffer; value: Buffer };

/** decode → phase → encode for one fetched batch; the messages to produce. */
async function transform(messages: Message[]): Promise<Out[]> {
  await decoder.prepare(messages.map((m) => m.value ?? null));
  const out: Out[] = [];
  for (const m of messages) {
    const decoded = decoder.decode(m.value ?? null);
    if (!decoded.ok) throw new Error(`offset ${m.partition}:${m.offset}: ${decoded.reason}`);
    const ctx: PhaseContext = {
      phase: def.name,
      topic: input,
      baseTopic: def.input.topic,
      partition: m.partition,
      offset: String(m.offset),
      key: m.key ?? null,
      timestamp: String(m.timestamp),
      headers: Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v])),
      attempt: 0,
      log,
    };
    const result = await def.phase(decoded.value, ctx);
    if (result.kind !== 'ok') throw new Error(`offset ${m.partition}:${m.offset}: phase said ${result.kind}`);
    const key = def.keyOf?.(result.value) ?? m.key;
    out.push({
      topic: output,
      key: typeof key === 'string' ? Buffer.from(key) : (key as Buffer),
      value: encoder.encode(result.value),
    });
  }
  return out;
}

async function send(out: Out[]): Promise<void> {
  // The runtime's request split keeps every partition's record batch under the broker's message.max.bytes;
  // it hands back the same message objects, so they are still platformatic messages.
  for (const request of produceRequests([{ topic: output, messages: out }])) {
    await producer.send({ messages: request.flatMap((t) => t.messages as Out[]) });
  }
}

/** The next offset to consume of every partition in the batch: what the commit records. */
function nextOffsets(messages: Message[]) {
  const last = new Map<number, bigint>();
  for (const m of messages) if ((last.get(m.partition) ?? -1n) < m.offset) last.set(m.partition, m.offset);
  return [...last].map(([partition, offset]) => ({
    topic: input,
    partition,
    offset: offset + 1n,
    leaderEpoch: -1,
  }));
}

// A 'readable' listener must stay attached: without one the stream is back to flowing=null and stops fetching.
let wake: (() => void) | undefined;
let stopping = false;
stream.on('readable', () => wake?.());
stream.on('close', () => wake?.());

/** Everything fetched so far (whole fetch responses are pushed at once), or [] once stopping. */
async function nextBatch(): Promise<Message[]> {
  for (;;) {
    const batch: Message[] = [];
    for (let m = stream.read(); m !== null; m = stream.read()) batch.push(m as Message);
    if (batch.length || stopping || stream.destroyed) return batch;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}

process.once('SIGTERM', () => {
  stopping = true;
  wake?.();
});
process.stdout.write(`${JSON.stringify({ ready: true, port: 0 })}\n`);

// Sends run one after another: the idempotent producer advances a partition's sequence number only when
// a produce is acknowledged, so two overlapping send() calls reuse it and the broker refuses the second
// (OUT_OF_ORDER_SEQUENCE_NUMBER). Each batch commits after its own produce and every earlier batch's
// commit, so a commit never covers records that are not acknowledged.
const inFlight: Promise<void>[] = [];
let sending: Promise<void> = Promise.resolve();
let previous: Promise<void> = Promise.resolve();
while (!stopping) {
  const batch = await nextBatch();
  if (batch.length === 0) continue;
  const out = await transform(batch);
  const sent = sending.then(() => send(out));
  sending = sent;
  const after = previous;
  previous = Promise.all([after, sent]).then(() => consumer.commit({ offsets: nextOffsets(batch) }));
  inFlight.push(previous);
  if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
}
await Promise.all(inFlight);
await stream.close();
await consumer.close();
await producer.close();
log.info('stopped');
process.exit(0);
