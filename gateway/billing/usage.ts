/**
 * `GET /api/billing/usage`: credits consumed per day, from ClickHouse `usage_events` (written by the
 * usage service from usage.events). Read with FINAL, so a movement delivered twice counts once; only
 * the meter's consumptions (kind `consume`, one credit per lead) count as usage, not grants or top-ups.
 */
import { type ClickHouseClient, querySql, sql } from '../../services/lib/clickhouse.ts';

/** Days, inclusive, as YYYY-MM-DD (UTC). */
export interface UsageRange {
  start: string;
  end: string;
}

export interface UsageReport {
  total_consumed: number;
  /** Every day of the range, oldest first, 0 where nothing was consumed. */
  daily_usage: { date: string; credits: number }[];
}

const DAY_MS = 86_400_000;
/** The longest range one request may ask for: a year of days keeps the answer small. */
export const MAX_RANGE_DAYS = 366;
/** Without `start`/`end`: the 30 days up to today. */
const DEFAULT_DAYS = 30;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(name: string, value: string): number | string {
  const t = Date.parse(`${value}T00:00:00Z`);
  if (!DATE.test(value) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== value)
    return `${name}: expected a date YYYY-MM-DD, got "${value}"`;
  return t;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The range asked for, or the reason it is refused (400). */
export function parseUsageRange(
  query: { start?: string; end?: string },
  now = new Date(),
): { range: UsageRange } | { detail: string } {
  const end =
    query.end === undefined ? Date.parse(`${day(now.getTime())}T00:00:00Z`) : parseDay('end', query.end);
  if (typeof end === 'string') return { detail: end };
  const start =
    query.start === undefined ? end - (DEFAULT_DAYS - 1) * DAY_MS : parseDay('start', query.start);
  if (typeof start === 'string') return { detail: start };
  if (start > end) return { detail: 'start: must not be after end' };
  if ((end - start) / DAY_MS + 1 > MAX_RANGE_DAYS)
    return { detail: `the range may span at most ${MAX_RANGE_DAYS} days` };
  return { range: { start: day(start), end: day(end) } };
}

export async function usageReport(
  ch: ClickHouseClient,
  accountId: string,
  range: UsageRange,
): Promise<UsageReport> {
  const from = new Date(`${range.start}T00:00:00Z`);
  const until = new Date(Date.parse(`${range.end}T00:00:00Z`) + DAY_MS);
  const rows = await querySql<{ date: string; credits: string | number }>(
    ch,
    sql`SELECT toString(toDate(occurred_at)) AS date, sum(-credits) AS credits
        FROM usage_events FINAL
        WHERE account_id = ${accountId} AND kind = 'consume'
          AND occurred_at >= ${from} AND occurred_at < ${until}
        GROUP BY date
        ORDER BY date`,
  );
  const byDay = new Map(rows.map((r) => [r.date, Number(r.credits)]));
  const daily_usage: UsageReport['daily_usage'] = [];
  for (let t = from.getTime(); t < until.getTime(); t += DAY_MS) {
    const date = day(t);
    daily_usage.push({ date, credits: byDay.get(date) ?? 0 });
  }
  return { total_consumed: daily_usage.reduce((sum, d) => sum + d.credits, 0), daily_usage };
}
