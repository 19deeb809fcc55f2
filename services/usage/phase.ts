/**
 * The usage phase: usage.events (every credit movement: the meter's consumptions, the gateway's grants,
 * top-ups, refunds, plan and cycle changes) → ClickHouse `usage_events`, one bulk insert per consumed
 * chunk. Idempotent: the table is a ReplacingMergeTree keyed by (account_id, event_id) and a movement
 * always carries the same id and values, so a redelivery after a crash replaces rows with themselves and
 * `SELECT … FROM usage_events FINAL` counts each movement once.
 *
 * A ClickHouse failure is retried without limit (capped backoff), never sent to the DLQ: the events are
 * fine, their destination is not, and a movement missing from the table would break the audit (the sum
 * of an account's credits equals its balance). Offsets stay uncommitted meanwhile.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Counter } from 'prom-client';
import type { UsageEvent } from '../../schemas/generated.ts';
import { formatDateTime, SqlLiteralError } from '../lib/clickhouse.ts';
import { TOPICS } from '../lib/names.ts';
import { type BatchPhase, definePhase, dlq, ok, type PhaseResult } from '../runtime/index.ts';
import { errorMessage, type RetryPolicy, untilDone } from '../runtime/retry.ts';

export const PHASE = 'usage';

/** A `usage_events` row, every column (18.16 ignores DEFAULTs). */
export interface UsageRow {
  account_id: string;
  event_id: string;
  kind: string;
  credits: number;
  balance_after: number;
  batch_id: string | null;
  lead_id: string | null;
  reference: string | null;
  occurred_at: string;
}

export function usageRow(e: UsageEvent): UsageRow {
  return {
    account_id: e.account_id,
    event_id: e.event_id,
    kind: e.kind,
    credits: e.credits,
    balance_after: e.balance_after,
    batch_id: e.batch_id,
    lead_id: e.lead_id,
    reference: e.reference,
    occurred_at: formatDateTime(new Date(e.occurred_at)),
  };
}

export interface UsageDeps {
  ch: ClickHouseClient;
  retry: RetryPolicy;
  rowsWritten: Counter;
  onRetry: (err: string, retry: number, waitMs: number) => void;
}

export function usagePhase(deps: UsageDeps): BatchPhase<UsageEvent, null> {
  return definePhase<UsageEvent, null>({
    name: PHASE,
    input: { topic: TOPICS.usage, record: 'UsageEvent' },
    batch: async (events) => {
      const results: PhaseResult<null>[] = [];
      // One row per event id in the chunk: a redelivered movement is the same row.
      const rows = new Map<string, UsageRow>();
      for (const e of events) {
        try {
          rows.set(`${e.account_id}\n${e.event_id}`, usageRow(e));
          results.push(ok(null));
        } catch (err) {
          if (!(err instanceof SqlLiteralError)) throw err;
          results.push(dlq(`cannot store usage event: ${err.message}`));
        }
      }
      if (rows.size > 0) {
        await untilDone(
          () => deps.ch.insert({ table: 'usage_events', values: [...rows.values()], format: 'JSONEachRow' }),
          deps.retry,
          () => false,
          { onRetry: (err, retry, waitMs) => deps.onRetry(errorMessage(err), retry, waitMs) },
        );
        deps.rowsWritten.inc(rows.size);
      }
      return results;
    },
  }) as BatchPhase<UsageEvent, null>;
}
