import { getHeapStatistics } from 'node:v8';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A registry with the process metrics (RSS, event-loop lag, GC) every service exposes, and V8's heap
 * limit, which the default metrics lack: heap used against it is how near the service is to running out
 * (services/lib/heap-limits.ts sets it per service).
 */
export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'nodejs_heap_size_limit_bytes',
    help: "V8's heap size limit: the heap cannot grow beyond it",
    registers: [registry],
  }).set(getHeapStatistics().heap_size_limit);
  return registry;
}

/** The runner's counters. Counts are added per batch, not per message, to keep the hot path cheap. */
export class RuntimeMetrics {
  readonly consumed: Counter<'topic'>;
  readonly produced: Counter<'topic'>;
  readonly rejected: Counter<'reason'>;
  readonly dlq: Counter<'cause'>;
  readonly dropped: Counter;
  readonly retries: Counter<'kind'>;
  readonly batchSeconds: Histogram;
  readonly batchSize: Histogram;
  readonly lag: Gauge<'group' | 'topic' | 'partition'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name: `leedrush_runtime_${name}`, help, labelNames, registers });
    this.consumed = counter('consumed_total', 'Messages consumed from the input topic', ['topic']);
    this.produced = counter('produced_total', 'Records produced to the output topic (acknowledged)', [
      'topic',
    ]);
    this.rejected = counter('rejected_total', 'Leads rejected by the phase (written to leads.failed)', [
      'reason',
    ]);
    this.dlq = counter('dlq_total', 'Messages copied to the DLQ, by cause: decode | phase | encode', [
      'cause',
    ]);
    // Every cause exists from the start at 0: increase() only sees a rise from a sample it already has, so
    // a series born at 1 would hide the first DLQ record from the LeedrushDlqRecords alert.
    for (const cause of ['decode', 'phase', 'encode']) this.dlq.inc({ cause }, 0);
    this.dropped = counter('dropped_total', 'Inputs the phase dropped', []);
    this.retries = counter(
      'retries_total',
      'Retries of transient failures: phase | produce | commit | registry',
      ['kind'],
    );
    this.batchSeconds = new Histogram({
      name: 'leedrush_runtime_batch_seconds',
      help: 'Time to decode, process, produce and commit one consumed batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'leedrush_runtime_batch_messages',
      help: 'Messages per consumed batch',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    });
    this.lag = new Gauge({
      name: 'leedrush_runtime_consumer_lag',
      // The group label lets one query cover every consumer group, as Kafka's own lag exporters do.
      help: 'Log end offset minus committed offset, per consumer group and input partition',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
  }
}
