import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';

const positive = (def: number) => z.coerce.number().int().min(1).default(def);

export const SinkConfig = BaseConfig.extend({
  /** A flush starts once this many rows wait ... */
  SINK_FLUSH_ROWS: positive(5_000),
  /** ... or once the oldest waiting row waited this long ... */
  SINK_FLUSH_MS: positive(1_000),
  /** ... or when no row arrived for this long (the fetched round is all there: see group-commit.ts). */
  SINK_LINGER_MS: positive(50),
  /** Partitions handled at once: both input topics' (6 + 6), so one fetch round can share one insert. */
  SINK_PARTITIONS_CONCURRENTLY: positive(12),
  /** Consumer group session: how long a dead instance holds its partitions before the group moves them. */
  SINK_SESSION_TIMEOUT_MS: positive(30_000),
  /** Per ClickHouse request, reading the answer included. */
  SINK_CLICKHOUSE_TIMEOUT_MS: positive(30_000),
});
export type SinkConfig = z.infer<typeof SinkConfig>;
