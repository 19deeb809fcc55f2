import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPONENTS } from '../../scripts/stack/components/index.ts';
import { KAFKA_VERSION, kafkaServerProperties } from '../../scripts/stack/components/kafka.ts';
import { nativeTargets } from '../../scripts/stack/components/prometheus.ts';
import { redisConf } from '../../scripts/stack/components/redis.ts';
import { APICURIO_VERSION, registryEnv } from '../../scripts/stack/components/registry.ts';
import { STRIPE_MOCK_VERSION } from '../../scripts/stack/components/stripe-mock.ts';
import { REPO_ROOT } from '../../scripts/stack/paths.ts';
import { BaseConfig } from '../../services/lib/config.ts';
import { heapFlags } from '../../services/lib/heap-limits.ts';
import { PHASE_NAMES } from '../../topology/topics.ts';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const service = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const imageTag = (name: string) => service(name).image?.split(':')[1];

/** Native Kafka settings that describe the cluster's behaviour, not this machine's paths or sizing. */
const KAFKA_LOCAL_ONLY = new Set([
  'listeners',
  'advertised.listeners',
  'controller.listener.names',
  'inter.broker.listener.name',
  'listener.security.protocol.map',
  'controller.quorum.bootstrap.servers',
  'log.dirs',
  'num.network.threads',
  'num.io.threads',
]);

/** The gateway plus one service per pipeline phase (each phase is its own consumer group). */
const PIPELINE_SERVICES = ['gateway', ...PHASE_NAMES];

describe('docker-compose.yml agrees with the native stack', () => {
  it('names every native component and publishes it on the same loopback port', () => {
    for (const c of COMPONENTS) {
      const published = (service(c.name).ports ?? []).map((p) => p.split(':'));
      expect(published, c.name).toContainEqual(['127.0.0.1', String(c.defaultPort), expect.any(String)]);
    }
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('runs the same Kafka with the same cluster settings', () => {
    expect(imageTag('kafka')).toBe(KAFKA_VERSION);
    const env = service('kafka').environment ?? {};
    const native = kafkaServerProperties({ port: 9092, controllerPort: 9093, dataDir: '/x' });
    const shared = native
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string])
      .filter(([key]) => !KAFKA_LOCAL_ONLY.has(key));
    expect(shared.length).toBeGreaterThan(10);
    for (const [key, value] of shared) {
      expect(env[`KAFKA_${key.toUpperCase().replaceAll('.', '_')}`], key).toBe(value);
    }
  });

  it('runs the same registry, configured to behave like the Confluent registry', () => {
    expect(imageTag('registry')).toBe(APICURIO_VERSION);
    const env = service('registry').environment ?? {};
    const native = registryEnv({ port: 1, managementPort: 2, kafkaBootstrap: 'x', dataDir: '/x' });
    for (const [key, value] of Object.entries(native)) {
      if (
        key.startsWith('QUARKUS_HTTP_HOST') ||
        key.startsWith('QUARKUS_MANAGEMENT') ||
        key === 'QUARKUS_HTTP_PORT'
      )
        continue;
      if (key === 'APICURIO_KAFKASQL_BOOTSTRAP_SERVERS' || key === 'APICURIO_STORAGE_SNAPSHOT_LOCATION')
        continue;
      expect(env[key], key).toBe(value);
    }
    expect(env.APICURIO_KAFKASQL_BOOTSTRAP_SERVERS).toBe(
      services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS?.match(/INTERNAL:\/\/([^,]+)/)?.[1],
    );
  });

  it('keeps Redis durable (AOF) in both', () => {
    expect(redisConf({ port: 6379, dataDir: '/x' })).toMatch(/^appendonly yes$/m);
    expect(service('redis').command?.join(' ')).toContain('--appendonly yes');
  });

  it('pins the same stripe-mock', () => {
    expect(imageTag('stripe-mock')).toBe(STRIPE_MOCK_VERSION);
  });

  it('gives Prometheus the shared scrape config and a target file for every job', () => {
    const prometheus = service('prometheus');
    expect(prometheus.volumes).toContain('./grafana/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const targetsMount = prometheus.volumes?.find((v) => v.endsWith(':/etc/prometheus/targets:ro'));
    const composeTargets = join(REPO_ROOT, targetsMount?.split(':')[0] ?? 'missing');
    const scrape = parse(readFileSync(join(REPO_ROOT, 'grafana', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; file_sd_configs: { files: string[] }[] }[];
    };
    const files = scrape.scrape_configs.flatMap((j) => j.file_sd_configs.flatMap((f) => f.files));
    const native = nativeTargets({ prometheusPort: 9090, registryManagementPort: 8082 });
    for (const file of files.filter((f) => !f.includes('*'))) {
      const name = file.replace(/^targets\//, '');
      expect(existsSync(join(composeTargets, name)), `compose ${name}`).toBe(true);
      expect(Object.keys(native), `native ${name}`).toContain(name);
    }
    for (const name of PIPELINE_SERVICES) {
      expect(existsSync(join(composeTargets, `leedrush-${name}.json`)), name).toBe(true);
    }
  });

  it('builds every Leedrush service from the Dockerfile with a configuration the services accept', () => {
    const componentKeys = COMPONENTS.flatMap((c) => Object.keys(c.env));
    for (const name of PIPELINE_SERVICES) {
      const s = service(name);
      expect(s.build, name).toBe('.');
      expect(s.environment?.SERVICE, name).toBe(name);
      const parsed = BaseConfig.safeParse(s.environment);
      expect(parsed.success, `${name}: ${parsed.error?.message ?? ''}`).toBe(true);
      for (const key of componentKeys) expect(s.environment, name).toHaveProperty(key);
    }
  });

  it('gives each Leedrush service the heap limit npm start and the test harness give it', () => {
    for (const name of PIPELINE_SERVICES) {
      const flags = heapFlags(name);
      expect(service(name).environment?.NODE_OPTIONS, name).toBe(flags.length ? flags.join(' ') : undefined);
    }
    expect(heapFlags('ingest')).toEqual(['--max-old-space-size=128']);
  });
});
