import type { Admin } from 'kafkajs';
import type { Gauge } from 'prom-client';

export interface PartitionLag {
  partition: number;
  lag: number;
}

/**
 * Lag of `groupId` on `topic`: log end offset minus committed offset, per partition. A partition the
 * group never committed counts from the log start.
 */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map<number, number>();
  for (const p of committed.find((t) => t.topic === topic)?.partitions ?? [])
    done.set(p.partition, Number(p.offset));
  return ends.map((end) => {
    const c = done.get(end.partition) ?? -1;
    const from = c >= 0 ? c : Number(end.low);
    return { partition: end.partition, lag: Math.max(0, Number(end.high) - from) };
  });
}

/** Refreshes the lag gauge every `intervalMs` (never two polls at once); returns the stop function. */
export function pollLag(
  admin: Admin,
  groupId: string,
  topic: string,
  gauge: Gauge<'group' | 'topic' | 'partition'>,
  intervalMs: number,
  onError: (err: unknown) => void,
): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const { partition, lag } of await consumerLag(admin, groupId, topic)) {
        gauge.set({ group: groupId, topic, partition: String(partition) }, lag);
      }
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
