/**
 * The retry schedule: the delay before attempt n+1 after attempt n failed. Written like
 * `1m,5m,30m,2h,6h,12h,24h` (units ms, s, m, h, d); its length is the number of retries, so the last
 * attempt is number schedule.length + 1. The default spans about 45 hours.
 */
export const DEFAULT_RETRY_SCHEDULE = '1m,5m,30m,2h,6h,12h,24h';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSchedule(text: string): number[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(part);
    if (!m?.[1] || !m[2]) throw new Error(`bad retry delay "${part}": use e.g. 500ms, 30s, 5m, 2h, 1d`);
    return Number(m[1]) * (UNITS[m[2]] ?? 1);
  });
}

/**
 * Delay after failed attempt `attempt` (1-based), or null when it was the last. Jitter of ±20 % keeps
 * endpoints that failed together (a receiver outage) from being retried all in the same instant.
 */
export function retryDelay(
  schedule: readonly number[],
  attempt: number,
  random = Math.random,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
