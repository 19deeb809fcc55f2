/**
 * One flush of the sink: everything a group of consumed records needs before their offsets may be
 * committed, in an order that makes a crash at any point harmless (every step is idempotent, and a
 * record whose offset was not committed is delivered again and goes through every step again):
 *
 * 1. insert the rows (leads, rejections): a redelivered lead replaces itself (ReplacingMergeTree); and
 *    meanwhile publish the lead.qualified events: before the rows count, so a batch never completes
 *    ahead of the events of its own leads;
 * 2. count the rows in their batches (tracker: each row once) and apply whole-batch failures;
 * 3. write the state of every batch touched to ClickHouse `batches` (versioned by the tracker's revision);
 * 4. announce batches that reached a final state and were not announced yet: batch.completed or
 *    batch.failed, then mark them announced. A crash before the mark announces again after the
 *    redelivery, with the same event id.
 *
 * A failing step (ClickHouse, Redis or Kafka unavailable) is retried with capped backoff until it
 * works, never skipped: these records are fine, their destination is not, and sending them to the DLQ
 * would take them out of the results. Meanwhile offsets stay uncommitted and /health reports the stall.
 */
import type { WebhookEvent } from '../../schemas/generated.ts';
import {
  type BatchRecord,
  type BatchTracker,
  qualityYield,
  rowsFailed,
  type TerminalRow,
} from '../lib/batch-tracker.ts';
import { type ClickHouseClient, formatDateTime } from '../lib/clickhouse.ts';
import type { Logger } from '../runtime/logger.ts';
import { errorMessage, type RetryPolicy, untilDone } from '../runtime/retry.ts';
import type { SinkEntry } from './entries.ts';
import { batchFinalEvent, isFinal } from './events.ts';
import type { SinkMetrics } from './metrics.ts';

/** Publishes webhook events to webhooks.outbox, acknowledged by the broker before it resolves. */
export type PublishEvents = (events: WebhookEvent[]) => Promise<void>;

export interface FlushDeps {
  ch: ClickHouseClient;
  tracker: BatchTracker;
  publish: PublishEvents;
  metrics: SinkMetrics;
  log: Logger;
  retry: RetryPolicy;
  now?: () => Date;
}

interface BatchRef {
  batchId: string;
  accountId: string;
}

interface BatchGroup extends BatchRef {
  source: string;
  rows: TerminalRow[];
}

const refKey = (r: BatchRef): string => `${r.accountId}\u0000${r.batchId}`;

const dateTime = (iso: string | null): string | null => (iso ? formatDateTime(new Date(iso)) : null);

/** The `batches` row of a tracker record; `version` is its revision, so the newest state wins. */
export function batchRow(b: BatchRecord, now: Date) {
  return {
    account_id: b.account_id,
    batch_id: b.batch_id,
    status: b.status,
    filename: b.filename,
    file_path: b.file_path,
    source: b.source,
    rows_total: b.rows_total,
    rows_processed: b.rows_done,
    rows_qualified: b.rows_qualified,
    rows_failed: rowsFailed(b),
    rows_duplicate: b.rows_duplicate,
    quality_yield: qualityYield(b),
    // Credits are billing's ledger (usage_events), not the sink's.
    credits_charged: 0,
    error_reason: b.error_reason,
    created_at: formatDateTime(new Date(b.created_at)),
    started_at: dateTime(b.started_at),
    completed_at: dateTime(b.completed_at),
    updated_at: formatDateTime(now),
    version: b.revision,
  };
}

export function createFlush(deps: FlushDeps): (entries: SinkEntry[]) => Promise<void> {
  const { ch, tracker, publish, metrics, log } = deps;
  const now = deps.now ?? (() => new Date());

  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const end = metrics.stepSeconds.startTimer({ step: name });
    try {
      return await untilDone(work, deps.retry, () => false, {
        onRetry: (err, retry, waitMs) => {
          metrics.retries.inc({ step: name });
          log.warn({ err: errorMessage(err), step: name, retry, waitMs }, 'sink step failed; retrying');
        },
      });
    } finally {
      end();
    }
  };

  const insert = async (table: string, values: readonly object[]): Promise<void> => {
    if (values.length === 0) return;
    await step(`insert ${table}`, () =>
      ch.insert({ table, values: values as object[], format: 'JSONEachRow' }),
    );
    metrics.rowsWritten.inc({ table }, values.length);
  };

  const publishEvents = async (name: string, events: WebhookEvent[]): Promise<void> => {
    if (events.length === 0) return;
    await step(name, () => publish(events));
    for (const e of events) metrics.events.inc({ event: e.event });
  };

  /** Counts the rows in their batches; returns the batches it counted rows in. */
  const count = async (groups: BatchGroup[]): Promise<BatchRef[]> => {
    const results = await step('count', () =>
      Promise.all(
        groups.map((g) =>
          tracker.recordTerminals(g.batchId, g.accountId, g.rows, { openStream: true, source: g.source }),
        ),
      ),
    );
    const touched: BatchRef[] = [];
    results.forEach((r, i) => {
      const g = groups[i] as BatchGroup;
      if (r.state === 'counted') touched.push(g);
      else {
        metrics.untracked.inc({ reason: r.state }, g.rows.length);
        log.warn(
          { batch_id: g.batchId, account_id: g.accountId, rows: g.rows.length, state: r.state },
          'rows written but not counted: the batch belongs to another account',
        );
      }
    });
    return touched;
  };

  const failBatches = async (failures: SinkEntry[]): Promise<BatchRef[]> => {
    await step('fail', () =>
      Promise.all(
        failures.map((f) =>
          tracker.fail(f.batchId, f.accountId, f.kind === 'batch-failure' ? f.reason : '', now()),
        ),
      ),
    );
    return failures;
  };

  return async (entries) => {
    const startedAt = performance.now();
    const leads: object[] = [];
    const rejections: object[] = [];
    const qualified: WebhookEvent[] = [];
    const failures: SinkEntry[] = [];
    const groups = new Map<string, BatchGroup>();
    for (const e of entries) {
      if (e.kind === 'batch-failure') {
        failures.push(e);
        continue;
      }
      if (e.kind === 'lead') {
        leads.push(e.row);
        if (e.event) qualified.push(e.event);
      } else rejections.push(e.row);
      const key = refKey(e);
      const group = groups.get(key);
      if (group) group.rows.push(e.terminal);
      else
        groups.set(key, { batchId: e.batchId, accountId: e.accountId, source: e.source, rows: [e.terminal] });
    }

    await Promise.all([
      insert('leads', leads),
      insert('rejections', rejections),
      publishEvents('publish lead.qualified', qualified),
    ]);
    const touched = new Map<string, BatchRef>();
    for (const ref of [...(await count([...groups.values()])), ...(await failBatches(failures))])
      touched.set(refKey(ref), ref);

    const states = (
      await step('read batches', () =>
        Promise.all([...touched.values()].map((ref) => tracker.get(ref.accountId, ref.batchId))),
      )
    )
      // A failure signal for a batch the tracker does not know (or another account's) changes nothing.
      .filter((b): b is BatchRecord => b !== null);
    const at = now();
    await insert(
      'batches',
      states.map((b) => batchRow(b, at)),
    );
    const toAnnounce = states.filter(isFinal).filter((b) => b.announced_at === null);
    await publishEvents('publish batch events', toAnnounce.map(batchFinalEvent));
    await step('mark announced', () =>
      Promise.all(toAnnounce.map((b) => tracker.markAnnounced(b.batch_id, at))),
    );
    for (const b of toAnnounce) log.info({ batch_id: b.batch_id, status: b.status }, 'batch announced');

    metrics.flushRows.observe(leads.length + rejections.length);
    metrics.flushSeconds.observe((performance.now() - startedAt) / 1000);
  };
}
