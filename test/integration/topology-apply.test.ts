import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../schemas/index.ts';
import { type ClickHouseClient, createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import { BaseConfig, type Config, loadConfig } from '../../services/lib/config.ts';
import { createRegistry } from '../../services/lib/registry.ts';
import { type ApplyResult, applyTopology } from '../../topology/apply.ts';
import { loadMigrations, MigrationError, migrate } from '../../topology/migrations.ts';
import { resolveTopics } from '../../topology/topics.ts';
import { cleanupIsolated, isolatedPrefix } from '../support/isolated.ts';

const { ConfigResourceTypes } = kafkajs;

describe('applyTopology on a fresh prefix', () => {
  const prefix = isolatedPrefix('apply');
  const config: Config = loadConfig(BaseConfig, {
    ...process.env,
    LEEDRUSH_PREFIX: prefix,
    CLICKHOUSE_DATABASE: `${prefix}_leedrush`,
  });
  const topics = resolveTopics(prefix);
  const drifted = `${prefix}.leads.deduped`;
  const kafka = new kafkajs.Kafka({ brokers: config.KAFKA_BROKERS, logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  const registry = createRegistry(config.SCHEMA_REGISTRY_URL);
  let ch: ClickHouseClient;
  let first: ApplyResult;
  let second: ApplyResult;

  beforeAll(async () => {
    await admin.connect();
    // A topic someone made by hand, too small and with a foreign retention: apply must repair it.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: drifted, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '1000' }] },
      ],
    });
    first = await applyTopology(config);
    second = await applyTopology(config);
    ch = createClickHouse(config);
  });

  afterAll(async () => {
    await ch?.close();
    await admin.disconnect();
    await cleanupIsolated(config);
  });

  it('reports every change on the first run', () => {
    const created = topics
      .filter((t) => t.name !== drifted)
      .map((t) => expect.stringMatching(`^created topic ${t.name.replaceAll('.', '\\.')} \\(`));
    expect(first.actions).toEqual(expect.arrayContaining(created));
    expect(first.actions).toContain(`increased partitions of ${drifted} to 6`);
    expect(first.actions).toContain(`updated config of ${drifted}: retention.ms`);
    expect(first.actions.filter((a) => a.startsWith('registered '))).toHaveLength(10);
    expect(first.actions).toContain(`created database ${config.CLICKHOUSE_DATABASE}`);
    expect(first.actions).toContain('applied migration 001_initial');
  });

  it('changes nothing on the second run, and a dry run agrees', async () => {
    expect(second.actions).toEqual([]);
    expect((await applyTopology(config, { dryRun: true })).actions).toEqual([]);
  });

  it('leaves every topic with its partitions and owned configs', async () => {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
    const partitions = Object.fromEntries(meta.map((m) => [m.name, m.partitions.length]));
    expect(partitions).toEqual(Object.fromEntries(topics.map((t) => [t.name, t.partitions])));
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name })),
    });
    for (const t of topics) {
      const entries = described.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
      const actual = Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
      expect(actual).toMatchObject(t.configs);
    }
  });

  it('registers each value schema once, under BACKWARD, with the id it reported', async () => {
    for (const t of topics) {
      if (!t.subject || !t.record) continue;
      expect(await registry.getCompatibility(t.subject)).toBe('BACKWARD');
      const found = await registry.lookup(t.subject, loadSchema(t.record).avsc);
      expect(found?.version).toBe(1);
      expect(first.actions).toContain(`registered ${t.subject} (${t.record}) id ${found?.id}`);
      // The same schema again is the same id, not a new version.
      expect((await registry.register(t.subject, loadSchema(t.record).avsc)).id).toBe(found?.id);
    }
  });

  it('records each migration once and creates its tables', async () => {
    const rows = await querySql<{ version: number; name: string; checksum: string }>(
      ch,
      sql`SELECT version, name, checksum FROM schema_migrations ORDER BY version`,
    );
    expect(rows).toEqual(
      loadMigrations().map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })),
    );
    const tables = await querySql<{ name: string; engine: string }>(
      ch,
      sql`SELECT name, engine FROM system.tables WHERE database = ${config.CLICKHOUSE_DATABASE} ORDER BY name`,
    );
    expect(tables.filter((t) => t.engine !== 'View').map((t) => t.name)).toEqual([
      'batches',
      'enrichment_calls',
      'leads',
      'rejections',
      'schema_migrations',
      'usage_events',
      'webhook_deliveries',
    ]);
    expect(tables.filter((t) => t.engine === 'View').map((t) => t.name)).toEqual([
      'account_yield',
      'batch_yield',
      'email_status_mix',
      'phone_status_mix',
      'provider_cost',
      'rejection_reasons',
      'usage_by_day',
    ]);
  });

  it('refuses to go on when an applied migration was edited', async () => {
    const server = createClickHouse(config, { database: 'default' });
    try {
      const edited = loadMigrations().map((m) => (m.version === 1 ? { ...m, checksum: '0'.repeat(64) } : m));
      const run = migrate(server, ch, config.CLICKHOUSE_DATABASE, { migrations: edited });
      await expect(run).rejects.toBeInstanceOf(MigrationError);
      await expect(run).rejects.toThrow(/001_initial was changed after it was applied/);
    } finally {
      await server.close();
    }
  });

  it('cleanup removes the topics, subjects and database', async () => {
    const problems = await cleanupIsolated(config);
    expect(problems).toEqual([]);
    expect((await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`))).toEqual([]);
    expect((await registry.listSubjects()).filter((s) => s.startsWith(`${prefix}.`))).toEqual([]);
    const server = createClickHouse(config, { database: 'default' });
    try {
      const dbs = await querySql(
        server,
        sql`SELECT name FROM system.databases WHERE name = ${config.CLICKHOUSE_DATABASE}`,
      );
      expect(dbs).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
