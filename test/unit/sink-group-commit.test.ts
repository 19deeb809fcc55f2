import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../services/sink/group-commit.ts';

/** A flush that records what it got and can be held open or made to fail. */
function recorder() {
  const flushes: number[][] = [];
  let release: (() => void) | undefined;
  let failNext: Error | undefined;
  const flush = async (items: number[]) => {
    flushes.push(items);
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    if (release === undefined) return;
    await new Promise<void>((r) => {
      release = r;
    });
  };
  return {
    flushes,
    flush,
    hold: () => {
      release = () => {};
    },
    release: () => {
      const r = release;
      release = undefined;
      r?.();
    },
    failNext: (err: Error) => {
      failNext = err;
    },
  };
}

describe('group commit', () => {
  it('flushes at once when maxRows items wait, in one flush for every waiting caller', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 5, maxWaitMs: 60_000, lingerMs: 60_000 });
    const a = gc.add([1, 2]);
    const b = gc.add([3, 4, 5]);
    await Promise.all([a, b]);
    expect(r.flushes).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('flushes a partial group after the linger, and no caller resolves before its flush', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 1_000, maxWaitMs: 60_000, lingerMs: 30 });
    let resolved = false;
    const a = gc.add([1]).then(() => {
      resolved = true;
    });
    await sleep(5);
    expect(resolved).toBe(false);
    expect(r.flushes).toEqual([]);
    await a;
    expect(r.flushes).toEqual([[1]]);
  });

  it('flushes by maxWait even while items keep arriving faster than the linger', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 1_000, maxWaitMs: 80, lingerMs: 40 });
    const started = Date.now();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      waits.push(gc.add([i]));
      await sleep(15);
    }
    await Promise.all(waits);
    // The first flush came from maxWait (items arrived every 15 ms, never idle for 40 ms).
    expect(r.flushes[0]?.length).toBeGreaterThan(1);
    expect(r.flushes[0]?.length).toBeLessThan(12);
    expect(r.flushes.flat()).toEqual([...Array(12).keys()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
  });

  it('runs one flush at a time; what arrives meanwhile goes in the next one', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 2, maxWaitMs: 60_000, lingerMs: 60_000 });
    r.hold();
    const first = gc.add([1, 2]);
    await sleep(5);
    const second = gc.add([3, 4]);
    const third = gc.add([5, 6]);
    await sleep(5);
    expect(r.flushes).toEqual([[1, 2]]);
    expect(gc.pending).toBe(4);
    r.release();
    await Promise.all([first, second, third]);
    expect(r.flushes).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
  });

  it('rejects every caller of a failed flush, and later callers are flushed anew', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 2, maxWaitMs: 60_000, lingerMs: 60_000 });
    r.failNext(new Error('clickhouse down'));
    const a = gc.add([1]);
    const b = gc.add([2]);
    await expect(a).rejects.toThrow('clickhouse down');
    await expect(b).rejects.toThrow('clickhouse down');
    await gc.add([1, 2]);
    expect(r.flushes).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('answers an empty add at once without a flush', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, { maxRows: 2, maxWaitMs: 10, lingerMs: 10 });
    await gc.add([]);
    await sleep(20);
    expect(r.flushes).toEqual([]);
  });
});
