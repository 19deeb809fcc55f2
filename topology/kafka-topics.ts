/**
 * Brings the brokers' topics in line with topics.ts: creates missing topics, raises partition counts
 * (never lowers: Kafka cannot), and resets the configs the topology owns when they drifted.
 */
import kafkajs, { type Admin } from 'kafkajs';
import type { ResolvedTopic } from './topics.ts';

// kafkajs is CommonJS: Node's ESM loader does not see its enum exports as named exports.
const { ConfigResourceTypes } = kafkajs;

/** kafkajs waits 5 s by default; creating 20 topics on a busy 2-core machine can take longer. */
const ADMIN_TIMEOUT_MS = 30_000;

export interface TopicState {
  partitions: number;
  configs: Record<string, string>;
}

export interface TopicChange {
  topic: ResolvedTopic;
  create: boolean;
  /** New partition count, when it must grow. */
  partitions: number | null;
  /** Config keys whose value differs from the spec. */
  configs: string[];
  /** A partition count above the spec: left as it is, reported. */
  extraPartitions: boolean;
}

/** What must change for `wanted`, given what the brokers hold (absent from `current`: missing). */
export function planTopics(
  wanted: readonly ResolvedTopic[],
  current: ReadonlyMap<string, TopicState>,
): TopicChange[] {
  const changes: TopicChange[] = [];
  for (const topic of wanted) {
    const state = current.get(topic.name);
    if (!state) {
      changes.push({ topic, create: true, partitions: null, configs: [], extraPartitions: false });
      continue;
    }
    const configs = Object.entries(topic.configs)
      .filter(([k, v]) => state.configs[k] !== v)
      .map(([k]) => k);
    const partitions = state.partitions < topic.partitions ? topic.partitions : null;
    const extraPartitions = state.partitions > topic.partitions;
    if (configs.length || partitions !== null || extraPartitions) {
      changes.push({ topic, create: false, partitions, configs, extraPartitions });
    }
  }
  return changes;
}

export function describeChange(c: TopicChange): string[] {
  const name = c.topic.name;
  if (c.create) {
    const n = c.topic.partitions;
    return [`created topic ${name} (${n} partition${n === 1 ? '' : 's'})`];
  }
  const lines: string[] = [];
  if (c.partitions !== null) lines.push(`increased partitions of ${name} to ${c.partitions}`);
  if (c.configs.length) lines.push(`updated config of ${name}: ${c.configs.join(', ')}`);
  return lines;
}

async function readState(admin: Admin, names: string[]): Promise<Map<string, TopicState>> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  const state = new Map<string, TopicState>();
  if (present.length === 0) return state;
  const { topics } = await admin.fetchTopicMetadata({ topics: present });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  for (const t of topics) {
    const resource = described.resources.find((r) => r.resourceName === t.name);
    const configs: Record<string, string> = {};
    for (const e of resource?.configEntries ?? []) configs[e.configName] = e.configValue;
    state.set(t.name, { partitions: t.partitions.length, configs });
  }
  return state;
}

export interface EnsureTopicsResult {
  actions: string[];
  warnings: string[];
}

export async function ensureTopics(
  admin: Admin,
  wanted: readonly ResolvedTopic[],
  options: { dryRun?: boolean } = {},
): Promise<EnsureTopicsResult> {
  const changes = planTopics(
    wanted,
    await readState(
      admin,
      wanted.map((t) => t.name),
    ),
  );
  const actions = changes.flatMap(describeChange);
  const warnings = changes
    .filter((c) => c.extraPartitions)
    .map(
      (c) =>
        `topic ${c.topic.name} has more partitions than the topology's ${c.topic.partitions}; left as is`,
    );
  if (options.dryRun) return { actions, warnings };

  const toCreate = changes.filter((c) => c.create);
  if (toCreate.length) {
    await admin.createTopics({
      waitForLeaders: true,
      timeout: ADMIN_TIMEOUT_MS,
      topics: toCreate.map((c) => ({
        topic: c.topic.name,
        numPartitions: c.topic.partitions,
        // -1: the broker's default.replication.factor, so one config fits a single node and a cluster.
        replicationFactor: -1,
        configEntries: Object.entries(c.topic.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const toGrow = changes.filter((c) => c.partitions !== null);
  if (toGrow.length) {
    await admin.createPartitions({
      timeout: ADMIN_TIMEOUT_MS,
      topicPartitions: toGrow.map((c) => ({ topic: c.topic.name, count: c.partitions as number })),
    });
  }
  const toConfigure = changes.filter((c) => !c.create && c.configs.length);
  if (toConfigure.length) {
    // AlterConfigs replaces a topic's overrides as a whole: the topology owns every override of its topics.
    await admin.alterConfigs({
      validateOnly: false,
      resources: toConfigure.map((c) => ({
        type: ConfigResourceTypes.TOPIC,
        name: c.topic.name,
        configEntries: Object.entries(c.topic.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  return { actions, warnings };
}
