/** The attempts of one endpoint, newest first, from ClickHouse `webhook_deliveries`. */
import { type ClickHouseClient, querySql, sql } from '../../services/lib/clickhouse.ts';
import type { DeliveryRow } from '../../services/webhooks/delivery-log.ts';

export interface DeliveryAttempt {
  delivery_id: string;
  event_id: string;
  event: string;
  attempt: number;
  status_code: number;
  success: boolean;
  error: string;
  latency_ms: number;
  timestamp: string;
}

/** The stored columns read back; numbers may come back as strings (ClickHouse's JSON quoting). */
type Row = Omit<DeliveryRow, 'endpoint_id' | 'account_id'>;

export async function listDeliveries(
  ch: ClickHouseClient,
  accountId: string,
  endpointId: string,
  page: { limit: number; offset: number },
): Promise<DeliveryAttempt[]> {
  const rows = await querySql<Row>(
    ch,
    sql`SELECT delivery_id, event_id, event, attempt, status_code, success, error, latency_ms, ts
        FROM webhook_deliveries
        WHERE account_id = ${accountId} AND endpoint_id = ${endpointId}
        ORDER BY ts DESC, event_id, attempt DESC
        LIMIT ${page.limit} OFFSET ${page.offset}`,
  );
  return rows.map((r) => ({
    delivery_id: r.delivery_id,
    event_id: r.event_id,
    event: r.event,
    attempt: Number(r.attempt),
    status_code: Number(r.status_code),
    success: Number(r.success) === 1,
    error: r.error,
    latency_ms: Number(r.latency_ms),
    timestamp: `${r.ts.replace(' ', 'T')}Z`,
  }));
}
