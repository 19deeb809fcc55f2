/**
 * applyTopology: makes the brokers, the schema registry and ClickHouse match the topology, idempotently.
 * Every step first reads what exists, so a second run changes nothing and says so.
 */
import { Kafka, logLevel } from 'kafkajs';
import { createClickHouse } from '../services/lib/clickhouse.ts';
import type { Config } from '../services/lib/config.ts';
import { createRegistry } from '../services/lib/registry.ts';
import { ensureTopics } from './kafka-topics.ts';
import { migrate } from './migrations.ts';
import { ensureSubjects } from './subjects.ts';
import { resolveTopics } from './topics.ts';

export type TopologyConfig = Pick<
  Config,
  | 'KAFKA_BROKERS'
  | 'SCHEMA_REGISTRY_URL'
  | 'CLICKHOUSE_URL'
  | 'CLICKHOUSE_USER'
  | 'CLICKHOUSE_PASSWORD'
  | 'CLICKHOUSE_DATABASE'
  | 'LEEDRUSH_PREFIX'
>;

export interface ApplyOptions {
  /** Report what would change without changing anything. */
  dryRun?: boolean;
  /** Called with each action as it happens. */
  onAction?: (line: string) => void;
}

export interface ApplyResult {
  /** One line per change made (or, dry, to make); empty when everything already matched. */
  actions: string[];
  warnings: string[];
}

export async function applyTopology(
  config: TopologyConfig,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const dryRun = options.dryRun ?? false;
  const actions: string[] = [];
  const record = (lines: string[]) => {
    for (const line of lines) {
      actions.push(line);
      options.onAction?.(line);
    }
  };
  const topics = resolveTopics(config.LEEDRUSH_PREFIX);

  const kafka = new Kafka({
    clientId: 'leedrush-topology',
    brokers: config.KAFKA_BROKERS,
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    // New topics' metadata can take seconds to reach every listener on a loaded machine
    // (UNKNOWN_TOPIC_OR_PARTITION meanwhile): retry for up to about a minute rather than fail the apply.
    retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 5_000 },
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  let warnings: string[];
  try {
    const result = await ensureTopics(admin, topics, { dryRun });
    record(result.actions);
    warnings = result.warnings;
  } finally {
    await admin.disconnect();
  }

  const registry = createRegistry(config.SCHEMA_REGISTRY_URL);
  record(await ensureSubjects(registry, topics, { dryRun }));

  const server = createClickHouse(config, { database: 'default' });
  const target = createClickHouse(config);
  try {
    record(await migrate(server, target, config.CLICKHOUSE_DATABASE, { dryRun }));
  } finally {
    await Promise.all([server.close(), target.close()]);
  }
  return { actions, warnings };
}
