import { describe, expect, it } from 'vitest';
import { coalescing } from '../../services/lib/coalesce.ts';
import { dlqHeaders, dlqMessage } from '../../services/runtime/dlq.ts';
import { LoopHealth } from '../../services/runtime/health.ts';
import { mapOrdered } from '../../services/runtime/ordered.ts';
import { ok, type PhaseResult } from '../../services/runtime/result.ts';
import { backoffMs, settle, untilDone } from '../../services/runtime/retry.ts';

const policy = { maxRetries: 3, baseMs: 100, capMs: 1_000 };

describe('mapOrdered', () => {
  it('returns a plain array (no promise) when every call is synchronous', () => {
    const out = mapOrdered([1, 2, 3], 2, (x) => x * 10);
    expect(out).toEqual([10, 20, 30]);
  });

  it('keeps input order while calls finish out of order, with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const delays = [50, 5, 30, 1, 20, 0, 10, 2, 40, 3];
    const out = await mapOrdered(delays, 3, async (ms, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });

  it('mixes synchronous and asynchronous results in order', async () => {
    const out = await mapOrdered([0, 1, 2, 3], 2, (i) => (i % 2 ? Promise.resolve(`a${i}`) : `s${i}`));
    expect(out).toEqual(['s0', 'a1', 's2', 'a3']);
  });
});

describe('coalescing', () => {
  it('carries the calls made while one is in flight in a single next call, in call order', async () => {
    const calls: number[][] = [];
    let release = () => {};
    const run = coalescing<number>(async (items) => {
      calls.push(items);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = run(1);
    const rest = [run(2), run(3), run(4)];
    release();
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects every caller whose item was in a failed call, and keeps working afterwards', async () => {
    let fail = true;
    const run = coalescing<string>(async () => {
      if (fail) throw new Error('NOT_COORDINATOR');
    });
    const results = await Promise.allSettled([run('a'), run('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(run('c')).resolves.toBeUndefined();
  });
});

describe('backoff and retry policy', () => {
  it('doubles from the base with equal jitter, capped', () => {
    expect(backoffMs(1, policy, () => 0)).toBe(50);
    expect(backoffMs(1, policy, () => 1)).toBe(100);
    expect(backoffMs(3, policy, () => 1)).toBe(400);
    expect(backoffMs(3, policy, () => 0)).toBe(200);
    expect(backoffMs(10, policy, () => 1)).toBe(1_000);
  });

  it('stays synchronous for a phase that succeeds synchronously', () => {
    expect(settle(() => ok(1), policy)).toEqual({ kind: 'ok', value: 1 });
  });

  it('retries a throwing phase with growing waits, then succeeds', async () => {
    const waits: number[] = [];
    const attempts: number[] = [];
    const r = await settle(
      (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw new Error('redis down');
        return ok('done');
      },
      policy,
      { sleep: async (ms) => waits.push(ms), random: () => 1 },
    );
    expect(r).toEqual({ kind: 'ok', value: 'done' });
    expect(attempts).toEqual([0, 1, 2]);
    expect(waits).toEqual([100, 200]);
  });

  it('sends to the DLQ with the last error after the retries', async () => {
    const retries: number[] = [];
    const r = await settle<never>(
      async () => {
        throw new Error('dns timeout');
      },
      policy,
      { sleep: async () => {}, onRetry: (_e, n) => retries.push(n) },
    );
    expect(r).toEqual({ kind: 'dlq', reason: 'failed after 4 attempts: dns timeout' });
    expect(retries).toEqual([1, 2, 3]);
  });

  it('rethrows errors the caller marks as not the phase’s', async () => {
    const transport = new Error('broker gone');
    const r = settle<never>(() => Promise.reject(transport), policy, {
      sleep: async () => {},
      rethrow: (e) => e === transport,
    }) as Promise<PhaseResult<never>>;
    await expect(r).rejects.toBe(transport);
  });

  it('untilDone retries transient work until it succeeds, and gives up only when told to', async () => {
    let calls = 0;
    const value = await untilDone(
      async () => {
        if (++calls < 5) throw new Error('NOT_LEADER_FOR_PARTITION');
        return 'acked';
      },
      policy,
      () => false,
      { sleep: async () => {} },
    );
    expect(value).toBe('acked');
    expect(calls).toBe(5);
    await expect(
      untilDone(
        async () => Promise.reject(new Error('down')),
        policy,
        () => true,
        { sleep: async () => {} },
      ),
    ).rejects.toThrow('down');
  });
});

describe('DLQ copies', () => {
  it('carry the reason and origin as the five dlq_* headers, plus the original bytes and headers', () => {
    const origin = { phase: 'verify', topic: 'p.leads.standardized', partition: 4, offset: '1234' };
    expect(dlqHeaders('bad magic byte 1', origin)).toEqual({
      dlq_reason: 'bad magic byte 1',
      dlq_phase: 'verify',
      dlq_topic: 'p.leads.standardized',
      dlq_partition: '4',
      dlq_offset: '1234',
    });
    const original = {
      key: Buffer.from('k'),
      value: Buffer.from([1, 2, 3]),
      headers: { trace: 'abc', dlq_reason: 'stale' },
      timestamp: '0',
      attributes: 0,
      offset: '1234',
    };
    const copy = dlqMessage(original, 'why', origin);
    expect(copy.key).toBe(original.key);
    expect(copy.value).toBe(original.value);
    expect(copy.headers).toMatchObject({ trace: 'abc', dlq_reason: 'why', dlq_offset: '1234' });
  });
});

describe('LoopHealth', () => {
  it('is unhealthy until connected, healthy while progressing, and stalled after stallMs', () => {
    let now = 1_000;
    const h = new LoopHealth(5_000, () => now);
    expect(h.report()).toMatchObject({ healthy: false, status: 'disconnected' });
    h.markConnected();
    expect(h.report()).toMatchObject({ healthy: true, status: 'ok', connected: true });
    now += 4_000;
    h.markProgress();
    now += 5_000;
    expect(h.report()).toMatchObject({ healthy: true, since_progress_ms: 5_000 });
    now += 1;
    expect(h.report()).toMatchObject({ healthy: false, status: 'stalled' });
    h.markProgress();
    expect(h.report().healthy).toBe(true);
  });

  it('reports the last connection error and turns unhealthy while stopping', () => {
    const h = new LoopHealth(5_000, () => 0);
    h.markDisconnected('ECONNREFUSED 127.0.0.1:1');
    expect(h.report()).toMatchObject({ healthy: false, last_error: 'ECONNREFUSED 127.0.0.1:1' });
    h.markConnected();
    expect(h.report()).not.toHaveProperty('last_error');
    h.markStopping();
    expect(h.report()).toMatchObject({ healthy: false, status: 'stopping' });
  });
});
