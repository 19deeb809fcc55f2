import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { ORIGIN_HEADER, ParkingLot, parkedMessage, READMIT_HEADER } from '../../services/runtime/parking.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

const prefix = `t_parking_${randomBytes(3).toString('hex')}`;
const redis = createRedis(loadConfig().REDIS_URL);
const lot = new ParkingLot(redis, keyspace(prefix));

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

const consumed = (i: number): KafkaMessage => ({
  key: Buffer.from(`b1:${i}`),
  value: Buffer.from([0, 1, 2, 255, i]),
  timestamp: '0',
  attributes: 0,
  offset: String(1000 + i),
  headers: { trace: Buffer.from(`t${i}`) },
});
const parked = (i: number, batch = 'b1') => parkedMessage(consumed(i), 3, `${batch}:${i}`, batch);

describe('parked leads (real Redis)', () => {
  it('keeps the exact message, its origin and the order; parks each lead once; re-parked leads go first', async () => {
    const acc = 'acc_order';
    expect(await lot.queued([acc])).toEqual(new Set());
    expect(
      await lot.park(
        acc,
        [0, 1, 2].map((i) => parked(i)),
      ),
    ).toBe(3);
    expect(
      await lot.park(
        acc,
        [1, 2, 3].map((i) => parked(i)),
      ),
    ).toBe(1); // a redelivered chunk
    expect(await lot.count(acc)).toBe(4);
    expect(await lot.queued([acc, 'acc_none'])).toEqual(new Set([acc]));

    const firstTwo = await lot.claim(acc, 2);
    expect(firstTwo.map((m) => m.leadId)).toEqual(['b1:0', 'b1:1']);
    const m0 = firstTwo[0]?.message;
    expect(m0?.key).toEqual(Buffer.from('b1:0'));
    expect(m0?.value).toEqual(Buffer.from([0, 1, 2, 255, 0]));
    expect(String(m0?.headers?.[ORIGIN_HEADER])).toBe('3:1000');
    expect(String(m0?.headers?.[READMIT_HEADER])).toBe('1');
    expect(String(m0?.headers?.trace)).toBe('t0');
    // b1:1 found the balance at 0 again after re-admission: it goes back ahead of b1:2 with its first origin
    const again = parkedMessage(
      { ...consumed(1), offset: '5000', headers: firstTwo[1]?.message.headers } as KafkaMessage,
      0,
      'b1:1',
      'b1',
    );
    expect(String(again.message.headers?.[ORIGIN_HEADER])).toBe('3:1001');
    await lot.park(acc, [again], true);
    await lot.confirm(acc, ['b1:0', 'b1:1']);
    expect((await lot.claim(acc, 10)).map((m) => m.leadId)).toEqual(['b1:1', 'b1:2', 'b1:3']);
  });

  it('hands claims nobody confirmed to the next holder, and forgets the account once all is sent', async () => {
    const acc = 'acc_crash';
    await lot.park(acc, [parked(0, 'bx'), parked(1, 'by'), parked(2, 'by')]);
    expect(await lot.stillParked(acc, ['bx', 'by', 'bz'])).toEqual(new Set(['bx', 'by']));
    expect(await lot.lease(acc, 'holder-a', 60_000)).toBe(true);
    expect(await lot.lease(acc, 'holder-b', 60_000)).toBe(false);
    const claimed = await lot.claim(acc, 2);
    expect(await lot.stillParked(acc, ['bx', 'by'])).toEqual(new Set(['by']));
    // holder-a dies before sending: its lease runs out, holder-b finds the claim unconfirmed
    await redis.del(keyspace(prefix)('parked', acc, 'lease'));
    expect(await lot.lease(acc, 'holder-b', 60_000)).toBe(true);
    const stale = await lot.unconfirmed(acc);
    expect(stale.map((m) => m.leadId).sort()).toEqual(claimed.map((m) => m.leadId).sort());
    await lot.confirm(
      acc,
      stale.map((m) => m.leadId),
    );
    expect(await lot.accounts()).toContain(acc);
    const rest = await lot.claim(acc, 10);
    expect(rest.map((m) => m.leadId)).toEqual(['by:2']);
    await lot.confirm(acc, ['by:2']);
    expect(await lot.accounts()).not.toContain(acc);
    expect(await lot.queued([acc])).toEqual(new Set());
    await lot.release(acc, 'holder-b');
  });
});
