import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import type { LeadRejection } from '../../schemas/generated.ts';
import type { Decoder, Encoder } from './codec.ts';
import { dlqMessage } from './dlq.ts';
import type { Logger } from './logger.ts';
import type { Admission } from './meter.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { mapOrdered } from './ordered.ts';
import { ORIGIN_HEADER } from './parking.ts';
import type { BatchPhase, ExpandPhase, PhaseContext, PhaseDefinition } from './phase.ts';
import { dlq, type PhaseResult } from './result.ts';
import { errorMessage, type RetryPolicy, settle, untilDone } from './retry.ts';

export interface PipelineTopics {
  input: string;
  baseInput: string;
  output: string | undefined;
  failed: string;
  dlq: string;
}

/** Everything one consumed batch needs, built once per service. */
export interface Pipeline<In, Out> {
  def: PhaseDefinition<In, Out>;
  topics: PipelineTopics;
  decoder: Decoder<In>;
  encoder: Encoder<Out> | undefined;
  rejectionEncoder: Encoder<LeadRejection> | undefined;
  retry: RetryPolicy;
  /** Phase calls in flight at once within a batch (RUNTIME_BATCH_CONCURRENCY). */
  concurrency: number;
  /** Expanding phases send (and wait for the acknowledgement) every `flushAt` routed records. */
  flushAt: number;
  metrics: RuntimeMetrics;
  log: Logger;
  /** True once the service shuts down: transient retries give up instead of waiting forever. */
  stopping: () => boolean;
  /** Runs on every decoded chunk before the phase: the inputs it holds back never reach the phase (meter.ts). */
  admission?: Admission<In>;
}

/** The Kafka side of one batch, provided by the runner (and by unit tests). */
export interface BatchIo {
  /** Resolves once the broker acknowledged every record (acks=all). */
  send(topicMessages: TopicMessages[]): Promise<void>;
  /** Marks everything up to and including `offset` as done and commits it. */
  commit(offset: string): Promise<void>;
  heartbeat(): Promise<void>;
}

export interface ConsumedBatch {
  partition: number;
  messages: KafkaMessage[];
}

type Decoded<In> = { msg: KafkaMessage; input: In };
type Cause = 'decode' | 'phase' | 'encode';

/** Records routed since the last flush, by destination topic, with the counts to report once acked. */
class Outbox<In, Out> {
  private pending = new Map<string, Message[]>();
  size = 0;
  private produced = 0;
  private dropped = 0;
  private rejected = new Map<string, number>();
  private dlqs = new Map<Cause, number>();

  constructor(
    private readonly p: Pipeline<In, Out>,
    private readonly partition: number,
  ) {}

  push(topic: string, message: Message): void {
    const list = this.pending.get(topic);
    if (list) list.push(message);
    else this.pending.set(topic, [message]);
    this.size++;
  }

  poison(msg: KafkaMessage, reason: string, cause: Cause): void {
    const { def, topics, log } = this.p;
    log.warn({ partition: this.partition, offset: msg.offset, cause, reason }, 'message to DLQ');
    this.push(
      topics.dlq,
      dlqMessage(msg, reason, {
        phase: def.name,
        topic: topics.input,
        partition: this.partition,
        offset: msg.offset,
      }),
    );
    this.dlqs.set(cause, (this.dlqs.get(cause) ?? 0) + 1);
  }

  route(result: PhaseResult<Out>, item: Decoded<In>, ctx: () => PhaseContext): void {
    const { def, topics, encoder, rejectionEncoder } = this.p;
    switch (result.kind) {
      case 'ok': {
        if (!encoder || !topics.output) {
          this.produced++;
          return;
        }
        let value: Buffer;
        try {
          value = encoder.encode(result.value);
        } catch (err) {
          this.poison(item.msg, errorMessage(err), 'encode');
          return;
        }
        this.push(topics.output, { key: def.keyOf ? def.keyOf(result.value) : item.msg.key, value });
        this.produced++;
        return;
      }
      case 'reject': {
        if (!def.rejectionOf || !rejectionEncoder) {
          this.poison(item.msg, `rejected (${result.reason}) without a rejection record`, 'phase');
          return;
        }
        let value: Buffer;
        try {
          value = rejectionEncoder.encode({
            ...def.rejectionOf(item.input, result.reason, result.detail, ctx()),
            ...result.fields,
          });
        } catch (err) {
          this.poison(item.msg, `rejection record failed: ${errorMessage(err)}`, 'encode');
          return;
        }
        this.push(topics.failed, { key: item.msg.key, value });
        this.rejected.set(result.reason, (this.rejected.get(result.reason) ?? 0) + 1);
        return;
      }
      case 'dlq':
        this.poison(item.msg, result.reason, 'phase');
        return;
      case 'drop':
        this.dropped++;
    }
  }

  /** Sends what is pending (retrying transient failures, never skipping), then counts it. */
  async flush(io: BatchIo): Promise<void> {
    const { metrics, retry, stopping, log } = this.p;
    if (this.size > 0) {
      const topicMessages = [...this.pending].map(([topic, messages]) => ({ topic, messages }));
      await untilDone(() => io.send(topicMessages), retry, stopping, {
        onRetry: (err, n, waitMs) => {
          metrics.retries.inc({ kind: 'produce' });
          log.warn({ err: errorMessage(err), retry: n, waitMs }, 'produce failed; retrying');
        },
      });
    }
    if (this.p.topics.output && this.produced)
      metrics.produced.inc({ topic: this.p.topics.output }, this.produced);
    for (const [reason, n] of this.rejected) metrics.rejected.inc({ reason }, n);
    for (const [cause, n] of this.dlqs) metrics.dlq.inc({ cause }, n);
    if (this.dropped) metrics.dropped.inc(this.dropped);
    this.pending = new Map();
    this.rejected = new Map();
    this.dlqs = new Map();
    this.size = this.produced = this.dropped = 0;
  }
}

/**
 * A message the meter parked and sent back carries where it was first consumed (`leedrush-origin`):
 * the context reports that position, so a phase that derives identity from it (standardize's ids for
 * direct producers' leads) gives the re-admitted lead the identity it had.
 */
function contextFor<In, Out>(
  p: Pipeline<In, Out>,
  partition: number,
  msg: KafkaMessage,
  attempt: number,
): PhaseContext {
  const origin = msg.headers?.[ORIGIN_HEADER];
  const [originPartition, originOffset] = origin === undefined ? [] : String(origin).split(':');
  return {
    phase: p.def.name,
    topic: p.topics.input,
    baseTopic: p.topics.baseInput,
    partition: originOffset === undefined ? partition : Number(originPartition),
    offset: originOffset ?? msg.offset,
    key: msg.key,
    timestamp: msg.timestamp,
    headers: msg.headers ?? {},
    attempt,
    log: p.log,
  };
}

/**
 * One consumed batch of one partition: decode, run the phase, route every result, send, and only then
 * commit. Output order follows input order within the partition.
 */
export async function processBatch<In, Out>(
  p: Pipeline<In, Out>,
  batch: ConsumedBatch,
  io: BatchIo,
): Promise<void> {
  const { partition, messages } = batch;
  const last = messages[messages.length - 1];
  if (!last) return;
  const outbox = new Outbox(p, partition);
  const inputs = await admitAll(p, partition, await decodeAll(p, messages, outbox), outbox);
  const onRetry = (err: unknown, retry: number, waitMs: number) => {
    p.metrics.retries.inc({ kind: 'phase' });
    p.log.warn({ err: errorMessage(err), retry, waitMs, partition }, 'phase threw; retrying');
  };
  const def = p.def;
  if ('phase' in def) {
    const results = await mapOrdered(inputs, p.concurrency, (item) =>
      settle((attempt) => def.phase(item.input, contextFor(p, partition, item.msg, attempt)), p.retry, {
        onRetry,
      }),
    );
    results.forEach((r, i) => {
      const item = inputs[i] as Decoded<In>;
      outbox.route(r, item, () => contextFor(p, partition, item.msg, 0));
    });
  } else if ('batch' in def) {
    await runBatchPhase(def, { p, partition, inputs, outbox, io, onRetry });
  } else {
    await runExpandPhase(def, { p, partition, inputs, outbox, io, onRetry });
  }
  await outbox.flush(io);
  await untilDone(() => io.commit(last.offset), p.retry, p.stopping, {
    onRetry: (err) => {
      p.metrics.retries.inc({ kind: 'commit' });
      p.log.warn({ err: errorMessage(err), partition }, 'commit failed; retrying');
    },
  });
}

async function decodeAll<In, Out>(p: Pipeline<In, Out>, messages: KafkaMessage[], outbox: Outbox<In, Out>) {
  await untilDone(() => p.decoder.prepare(messages.map((m) => m.value)), p.retry, p.stopping, {
    onRetry: (err, retry, waitMs) => {
      p.metrics.retries.inc({ kind: 'registry' });
      p.log.warn({ err: errorMessage(err), retry, waitMs }, 'schema registry unavailable; retrying');
    },
  });
  const inputs: Decoded<In>[] = [];
  for (const msg of messages) {
    const d = p.decoder.decode(msg.value);
    if (d.ok) inputs.push({ msg, input: d.value });
    else outbox.poison(msg, d.reason, 'decode');
  }
  return inputs;
}

/**
 * The admission step (a service's meter): what it holds back is parked durably before this returns, and
 * the records it emits join the phase's output in the one produce that precedes the commit. Its Redis
 * work is idempotent, so a failure is retried like a produce (never skipped).
 */
async function admitAll<In, Out>(
  p: Pipeline<In, Out>,
  partition: number,
  inputs: Decoded<In>[],
  outbox: Outbox<In, Out>,
): Promise<Decoded<In>[]> {
  const admission = p.admission;
  if (!admission || inputs.length === 0) return inputs;
  const items = inputs.map((d) => ({ ...d, ctx: contextFor(p, partition, d.msg, 0) }));
  const outcome = await untilDone(() => admission.admit(items, partition), p.retry, p.stopping, {
    onRetry: (err, retry, waitMs) => {
      p.metrics.retries.inc({ kind: 'admission' });
      p.log.warn({ err: errorMessage(err), retry, waitMs, partition }, 'admission failed; retrying');
    },
  });
  for (const { topic, messages } of outcome.messages) for (const m of messages) outbox.push(topic, m);
  return inputs.filter((_, i) => outcome.admitted[i]);
}

/** One batch being processed: what the phase runners share. */
interface Run<In, Out> {
  p: Pipeline<In, Out>;
  partition: number;
  inputs: Decoded<In>[];
  outbox: Outbox<In, Out>;
  io: BatchIo;
  onRetry: (err: unknown, retry: number, waitMs: number) => void;
}

async function runBatchPhase<In, Out>(def: BatchPhase<In, Out>, run: Run<In, Out>): Promise<void> {
  const { p, partition, inputs, outbox, onRetry } = run;
  const size = Math.max(1, def.maxBatch ?? inputs.length);
  for (let start = 0; start < inputs.length; start += size) {
    const chunk = inputs.slice(start, start + size);
    const outcome = await settle(
      async (attempt) => {
        const results = await def.batch(
          chunk.map((c) => c.input),
          chunk.map((c) => contextFor(p, partition, c.msg, attempt)),
        );
        if (results.length !== chunk.length) {
          return dlq(`batch phase returned ${results.length} results for ${chunk.length} inputs`);
        }
        return { kind: 'ok' as const, value: results };
      },
      p.retry,
      { onRetry },
    );
    chunk.forEach((item, i) => {
      const r = outcome.kind === 'ok' ? (outcome.value[i] as PhaseResult<Out>) : outcome;
      outbox.route(r as PhaseResult<Out>, item, () => contextFor(p, partition, item.msg, 0));
    });
  }
}

async function runExpandPhase<In, Out>(def: ExpandPhase<In, Out>, run: Run<In, Out>): Promise<void> {
  const { p, partition, inputs, outbox, io, onRetry } = run;
  let lastDone: string | undefined;
  let lastCommitted: string | undefined;
  // A failed send or commit is the transport's, not the stream's: it must not restart the stream.
  const transportErrors = new WeakSet<object>();
  const flushChunk = async () => {
    try {
      await outbox.flush(io);
      if (lastDone !== lastCommitted && lastDone !== undefined) {
        await io.commit(lastDone);
        lastCommitted = lastDone;
      }
      await io.heartbeat();
    } catch (err) {
      if (typeof err === 'object' && err !== null) transportErrors.add(err);
      throw err;
    }
  };
  for (const item of inputs) {
    let routed = 0;
    const outcome = await settle(
      async (attempt) => {
        // A restarted stream replays from the start: skip what was already routed before the throw.
        let seen = 0;
        for await (const r of def.expand(item.input, contextFor(p, partition, item.msg, attempt))) {
          if (seen++ < routed) continue;
          outbox.route(r, item, () => contextFor(p, partition, item.msg, attempt));
          routed++;
          if (outbox.size >= p.flushAt) await flushChunk();
        }
        return { kind: 'drop' as const };
      },
      p.retry,
      { onRetry, rethrow: (err) => typeof err === 'object' && err !== null && transportErrors.has(err) },
    );
    if (outcome.kind === 'dlq') outbox.poison(item.msg, outcome.reason, 'phase');
    lastDone = item.msg.offset;
  }
}
