import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, parseSchedule, retryDelay } from '../../services/webhooks/backoff.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('retry schedule', () => {
  it('parses units and refuses anything else', () => {
    expect(parseSchedule('500ms, 30s,5m,2h,1d')).toEqual([500, 30_000, 5 * MIN, 2 * HOUR, 24 * HOUR]);
    for (const bad of ['', '5', '5x', '1m,,2m', '-1m', '1.5h']) expect(() => parseSchedule(bad)).toThrow();
  });

  it('by default grows exponentially-ish and spans more than 24 hours', () => {
    const delays = parseSchedule(DEFAULT_RETRY_SCHEDULE);
    expect(delays).toEqual([MIN, 5 * MIN, 30 * MIN, 2 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1] ?? 0);
    // Even with the shortest jitter every retry still comes after the 24-hour mark.
    const earliest = delays.reduce((sum, _, i) => sum + (retryDelay(delays, i + 1, () => 0) ?? 0), 0);
    expect(earliest).toBeGreaterThan(24 * HOUR);
  });

  it('jitters each delay within ±20 % and ends after the last entry', () => {
    const delays = [1_000, 10_000];
    expect(retryDelay(delays, 1, () => 0)).toBe(800);
    expect(retryDelay(delays, 1, () => 0.5)).toBe(1_000);
    expect(retryDelay(delays, 1, () => 0.999999)).toBe(1_200);
    expect(retryDelay(delays, 2, () => 0.5)).toBe(10_000);
    expect(retryDelay(delays, 3)).toBeNull();
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(delays, 2) ?? 0;
      expect(d).toBeGreaterThanOrEqual(8_000);
      expect(d).toBeLessThanOrEqual(12_000);
    }
  });
});
