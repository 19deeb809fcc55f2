import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import { runOrThrow } from '../exec.ts';
import { ensureJavaAndMaven, findJava } from '../java.ts';
import type { StackPaths } from '../paths.ts';
import { expectOk } from '../probes.ts';
import { kafkaBootstrap } from './kafka.ts';

export const APICURIO_VERSION = '3.3.3';
/** Apicurio 3.3 is compiled for Java 21 (class file version 65). */
const JAVA_MAJOR = 21;
const HOST = '127.0.0.1';
const DEFAULT_PORT = 8081;
const port = portFromEnv('REGISTRY', DEFAULT_PORT);
/** Quarkus serves health on a separate management port (default 9000, which ClickHouse needs). */
const managementPort = portFromEnv('REGISTRY_MANAGEMENT', 8082);
const base = `http://${HOST}:${port}`;

const appDir = (p: StackPaths) => join(p.stack, 'apicurio', APICURIO_VERSION);

/**
 * Environment that makes Apicurio behave like a Confluent schema registry for our clients: KafkaSQL
 * storage (schemas survive restarts, in Kafka itself), ccompat ids are global ids as Confluent's are,
 * and subjects can be deleted (tests clean up after themselves).
 */
export function registryEnv(s: {
  port: number;
  managementPort: number;
  kafkaBootstrap: string;
  dataDir: string;
}) {
  return {
    QUARKUS_HTTP_HOST: HOST,
    QUARKUS_HTTP_PORT: String(s.port),
    QUARKUS_MANAGEMENT_HOST: HOST,
    QUARKUS_MANAGEMENT_PORT: String(s.managementPort),
    QUARKUS_HTTP_ACCESS_LOG_ENABLED: 'false',
    APICURIO_STORAGE_KIND: 'kafkasql',
    APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: s.kafkaBootstrap,
    APICURIO_KAFKASQL_TOPIC: 'kafkasql-journal',
    APICURIO_STORAGE_SNAPSHOT_LOCATION: s.dataDir,
    APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED: 'true',
    APICURIO_REST_DELETION_ARTIFACT_ENABLED: 'true',
    APICURIO_REST_DELETION_ARTIFACT_VERSION_ENABLED: 'true',
    APICURIO_REST_DELETION_GROUP_ENABLED: 'true',
  };
}

async function install(ctx: StackContext): Promise<void> {
  const dir = appDir(ctx.paths);
  if (existsSync(join(dir, 'quarkus-run.jar'))) return;
  await ensureJavaAndMaven(ctx);
  findJava(JAVA_MAJOR);
  ctx.log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central`);
  const downloads = join(ctx.paths.stack, 'downloads');
  await runOrThrow(
    'mvn',
    [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${downloads}`,
    ],
    { timeoutMs: 600_000, cwd: ctx.paths.stack },
  );
  // Extract into a scratch folder and rename, so an interrupted extraction never looks installed.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const archive = join(downloads, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
  await runOrThrow('tar', ['-xzf', archive, '-C', partial], { timeoutMs: 300_000 });
  await runOrThrow('mv', ['-T', partial, dir]);
  rmSync(archive, { force: true });
}

async function prepare(ctx: StackContext): Promise<void> {
  mkdirSync(join(ctx.paths.data, 'apicurio'), { recursive: true });
}

/** Ready only when the management readiness check passes and the ccompat API itself answers. */
async function health(): Promise<void> {
  await expectOk(`http://${HOST}:${managementPort}/health/ready`);
  await expectOk(`${base}/apis/ccompat/v7/subjects`);
}

async function version(): Promise<string> {
  const info = JSON.parse(await expectOk(`${base}/apis/registry/v3/system/info`)) as { version?: string };
  if (!info.version) throw new Error('system/info has no version');
  return info.version;
}

export const registry: Component = {
  name: 'registry',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { SCHEMA_REGISTRY_URL: `${base}/apis/ccompat/v7` },
  install,
  prepare,
  launch: (ctx) => ({
    cmd: findJava(JAVA_MAJOR),
    args: [
      '-Xms128m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      // C1 only: the registry serves a few cached lookups, and skipping C2 halved its start-up on two
      // busy cores (39 s against 60-76 s measured), which is most of a cold `up`.
      '-XX:TieredStopAtLevel=1',
      '-jar',
      join(appDir(ctx.paths), 'quarkus-run.jar'),
    ],
    cwd: appDir(ctx.paths),
    env: registryEnv({
      port,
      managementPort,
      kafkaBootstrap,
      dataDir: join(ctx.paths.data, 'apicurio'),
    }),
  }),
  health,
  version,
  startTimeoutMs: 120_000,
};
