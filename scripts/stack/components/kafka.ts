import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import { runOrThrow } from '../exec.ts';
import { ensureJavaAndMaven } from '../java.ts';
import type { StackPaths } from '../paths.ts';

export const KAFKA_VERSION = '4.1.1';
const HOST = '127.0.0.1';
const DEFAULT_PORT = 9092;
const port = portFromEnv('KAFKA', DEFAULT_PORT);
const controllerPort = portFromEnv('KAFKA_CONTROLLER', 9093);
export const kafkaBootstrap = `${HOST}:${port}`;

const libsDir = (p: StackPaths) => join(p.stack, 'kafka', 'libs');
const dataDir = (p: StackPaths) => join(p.data, 'kafka');
const confDir = (p: StackPaths) => join(p.conf, 'kafka');
const brokerJar = (p: StackPaths) => join(libsDir(p), `kafka_2.13-${KAFKA_VERSION}.jar`);

export interface KafkaSettings {
  port: number;
  controllerPort: number;
  dataDir: string;
}

/**
 * A single KRaft node that is broker and controller at once. Replication factors are 1 because there is
 * one broker; topics are created explicitly (topology, Apicurio's journal), never by a typo in a producer.
 */
export function kafkaServerProperties(s: KafkaSettings): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    listeners: `PLAINTEXT://${HOST}:${s.port},CONTROLLER://${HOST}:${s.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${s.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.quorum.bootstrap.servers': `${HOST}:${s.controllerPort}`,
    'log.dirs': s.dataDir,
    'num.partitions': 3,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    'log.retention.hours': 168,
    'log.segment.bytes': 67_108_864,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** log4j2 config: broker logs roll under .stack/logs; only warnings reach the process log. */
export function kafkaLog4j2(logsDir: string): string {
  return `Configuration:
  name: leedrush-kafka
  Appenders:
    Console:
      name: STDOUT
      ThresholdFilter: { level: WARN }
      PatternLayout: { pattern: "[%d] %p %m (%c)%n" }
    RollingFile:
      name: SERVER
      fileName: ${join(logsDir, 'kafka-server.log')}
      filePattern: ${join(logsDir, 'kafka-server.log.%i')}
      PatternLayout: { pattern: "[%d] %p %m (%c)%n" }
      SizeBasedTriggeringPolicy: { size: 50MB }
      DefaultRolloverStrategy: { max: 2 }
  Loggers:
    Root:
      level: INFO
      AppenderRef: [{ ref: STDOUT }, { ref: SERVER }]
`;
}

/** KRaft cluster ids are 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

const classpath = (p: StackPaths) => `${libsDir(p)}/*`;

async function install(ctx: StackContext): Promise<void> {
  if (existsSync(brokerJar(ctx.paths))) return;
  await ensureJavaAndMaven(ctx);
  ctx.log(`fetching Kafka ${KAFKA_VERSION} jars from Maven Central`);
  const pom = join(ctx.paths.root, 'scripts', 'stack', 'kafka', 'pom.xml');
  await runOrThrow(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libsDir(ctx.paths)}`,
    ],
    { timeoutMs: 600_000 },
  );
}

async function prepare(ctx: StackContext): Promise<void> {
  const conf = confDir(ctx.paths);
  mkdirSync(conf, { recursive: true });
  const properties = join(conf, 'server.properties');
  writeFileSync(properties, kafkaServerProperties({ port, controllerPort, dataDir: dataDir(ctx.paths) }));
  writeFileSync(join(conf, 'log4j2.yaml'), kafkaLog4j2(ctx.paths.logs));
  if (existsSync(join(dataDir(ctx.paths), 'meta.properties'))) return;
  ctx.log('formatting Kafka storage');
  await runOrThrow(
    'java',
    [
      '-cp',
      classpath(ctx.paths),
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      '-t',
      newClusterId(),
      '-c',
      properties,
    ],
    { timeoutMs: 120_000 },
  );
}

/** A real round trip: the broker answers metadata and lists itself as the controller's registered broker. */
async function health(): Promise<void> {
  const admin = new Kafka({
    clientId: 'leedrush-stack-probe',
    brokers: [kafkaBootstrap],
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null)
      throw new Error('no broker registered yet');
  } finally {
    await admin.disconnect();
  }
}

/** The broker jar on the running process's classpath carries the version Maven resolved. */
async function version(ctx: StackContext): Promise<string> {
  const jar = readdirSync(libsDir(ctx.paths)).find((f) => /^kafka_2\.13-.+\.jar$/.test(f));
  if (!jar) throw new Error('no kafka_2.13 jar in .stack/kafka/libs');
  return jar.replace(/^kafka_2\.13-/, '').replace(/\.jar$/, '');
}

export const kafka: Component = {
  name: 'kafka',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { KAFKA_BROKERS: kafkaBootstrap },
  install,
  prepare,
  launch: (ctx) => ({
    cmd: 'java',
    args: [
      '-Xms512m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      `-Dlog4j2.configurationFile=${join(confDir(ctx.paths), 'log4j2.yaml')}`,
      `-Dkafka.logs.dir=${ctx.paths.logs}`,
      '-cp',
      classpath(ctx.paths),
      'kafka.Kafka',
      join(confDir(ctx.paths), 'server.properties'),
    ],
  }),
  health,
  version,
  startTimeoutMs: 90_000,
};
