import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import { BaseConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { createRegistry } from '../../services/lib/registry.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';

describe('isolatedConfig', () => {
  it('gives a service schema its own prefix and database with the topology applied, and cleans up', async () => {
    const schema = BaseConfig.extend({ SINK_FLUSH_MS: z.coerce.number().default(250) });
    const config = await isolatedConfig('Sink Test!', schema);
    expect(config.SINK_FLUSH_MS).toBe(250);
    expect(config.LEEDRUSH_PREFIX).toMatch(/^t_sink_test_[0-9a-f]{8}$/);
    expect(config.CLICKHOUSE_DATABASE).toBe(`${config.LEEDRUSH_PREFIX}_leedrush`);

    const admin = new kafkajs.Kafka({
      brokers: config.KAFKA_BROKERS,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    const ch = createClickHouse(config, { database: 'default' });
    const registry = createRegistry(config.SCHEMA_REGISTRY_URL);
    const redis = createRedis(config.REDIS_URL);
    const key = keyspace(config.LEEDRUSH_PREFIX);
    // More keys than one SCAN page, so cleanup must follow the cursor.
    const keys = Array.from({ length: 2_500 }, (_, i) => key('batch', String(i)));
    await redis.mset(...keys.flatMap((k) => [k, '1']));
    const otherPrefix = `${config.LEEDRUSH_PREFIX}x:ld:batch:1`;
    await redis.set(otherPrefix, '1');
    await admin.connect();
    try {
      const mine = async () =>
        (await admin.listTopics()).filter((t) => t.startsWith(`${config.LEEDRUSH_PREFIX}.`));
      const leadsTable = () =>
        querySql(
          ch,
          sql`SELECT name FROM system.tables WHERE database = ${config.CLICKHOUSE_DATABASE} AND name = 'leads'`,
        );
      expect(await mine()).toContain(`${config.LEEDRUSH_PREFIX}.leads.raw`);
      expect(await leadsTable()).toHaveLength(1);
      expect(await registry.getCompatibility(`${config.LEEDRUSH_PREFIX}.leads.raw-value`)).toBe('BACKWARD');

      expect(await cleanupIsolated(config)).toEqual([]);
      expect(await mine()).toEqual([]);
      expect(await leadsTable()).toEqual([]);
      const subjects = await registry.listSubjects();
      expect(subjects.filter((s) => s.startsWith(`${config.LEEDRUSH_PREFIX}.`))).toEqual([]);
      expect(await redis.exists(...keys)).toBe(0);
      expect(await redis.get(otherPrefix)).toBe('1');
    } finally {
      await redis.del(otherPrefix);
      redis.disconnect();
      await admin.disconnect();
      await ch.close();
    }
  });

  it('refuses to clean up a prefix that is not a test prefix', async () => {
    const config = BaseConfig.parse({
      KAFKA_BROKERS: '127.0.0.1:9092',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    await expect(cleanupIsolated(config)).rejects.toThrow(/non-test prefix/);
  });
});
