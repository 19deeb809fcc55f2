/**
 * An isolated corner of the shared local stack for one test file: topics, consumer groups and subjects
 * under a unique LEEDRUSH_PREFIX, and a ClickHouse database of its own, with the topology applied.
 *
 *   const config = await isolatedConfig('sink');
 *   afterAll(() => cleanupIsolated(config));
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import kafkajs from 'kafkajs';
import type { z } from 'zod';
import { createClickHouse, execSql, ident, sql } from '../../services/lib/clickhouse.ts';
import { BaseConfig, type Config, loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';
import { createRegistry } from '../../services/lib/registry.ts';
import { applyTopology } from '../../topology/apply.ts';

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** `t_<label>_<8 hex>`: label lower-cased to [a-z0-9_], so the prefix and database name stay valid. */
export function isolatedPrefix(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24);
  return `t_${clean || 'test'}_${randomBytes(4).toString('hex')}`;
}

/**
 * Loads the config (a service's own schema may be passed) with a fresh prefix and database, and applies
 * the topology to them: every topic, subject and table exists when this resolves.
 */
export async function isolatedConfig<S extends ObjectSchema = typeof BaseConfig>(
  label: string,
  schema: S = BaseConfig as unknown as S,
  env: Record<string, string | undefined> = process.env,
): Promise<z.infer<S>> {
  const prefix = isolatedPrefix(label);
  const config = loadConfig(schema, {
    ...env,
    LEEDRUSH_PREFIX: prefix,
    CLICKHOUSE_DATABASE: `${prefix}_leedrush`,
  });
  await applyTopology(config as Config);
  return config;
}

/**
 * Best effort: deletes the prefix's topics, consumer groups, subjects and Redis keys and drops its database. Each
 * part runs even if another fails; failures are returned, not thrown, so a test's own result stands.
 */
export async function cleanupIsolated(config: Config): Promise<string[]> {
  const prefix = config.LEEDRUSH_PREFIX;
  if (!prefix.startsWith('t_')) throw new Error(`refusing to clean up non-test prefix "${prefix}"`);
  const mine = (name: string) => name.startsWith(`${prefix}.`);
  const results = await Promise.allSettled([
    deleteKafkaObjects(config, mine),
    deleteSubjects(config, mine),
    dropDatabase(config),
    deleteRedisKeysAt(config.REDIS_URL, prefix),
  ]);
  return results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
}

async function deleteKafkaObjects(config: Config, mine: (name: string) => boolean): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'leedrush-test-cleanup',
    brokers: config.KAFKA_BROKERS,
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const groupIds = groups.map((g) => g.groupId).filter(mine);
    if (groupIds.length) await admin.deleteGroups(groupIds).catch(() => undefined);
    const topics = (await admin.listTopics()).filter(mine);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function deleteSubjects(config: Config, mine: (name: string) => boolean): Promise<void> {
  const registry = createRegistry(config.SCHEMA_REGISTRY_URL);
  for (const subject of (await registry.listSubjects()).filter(mine)) await registry.deleteSubject(subject);
}

async function dropDatabase(config: Config): Promise<void> {
  const ch = createClickHouse(config, { database: 'default' });
  try {
    await execSql(ch, sql`DROP DATABASE IF EXISTS ${ident(config.CLICKHOUSE_DATABASE)}`);
  } finally {
    await ch.close();
  }
}

/** Every key under the prefix, found with SCAN so a large test keyspace never blocks the server. */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1_000 })) {
    if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
  }
}

async function deleteRedisKeysAt(redisUrl: string, prefix: string): Promise<void> {
  const redis = createRedis(redisUrl, 'leedrush-test-cleanup');
  try {
    await deleteRedisKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
