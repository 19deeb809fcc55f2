import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portFromEnv } from '../../scripts/stack/component.ts';
import { clickhouseConfigXml, clickhouseUsersXml } from '../../scripts/stack/components/clickhouse.ts';
import { COMPONENTS, componentByName } from '../../scripts/stack/components/index.ts';
import { kafkaLog4j2, kafkaServerProperties, newClusterId } from '../../scripts/stack/components/kafka.ts';
import { parseRedisVersion, redisConf } from '../../scripts/stack/components/redis.ts';
import { registryEnv } from '../../scripts/stack/components/registry.ts';
import { parseGoModVersion } from '../../scripts/stack/components/stripe-mock.ts';
import { renderEnv, writeEnvFile } from '../../scripts/stack/env-file.ts';
import { findJava, javaMajor } from '../../scripts/stack/java.ts';
import { completeReply } from '../../scripts/stack/resp.ts';
import { formatStatus } from '../../scripts/stack/status-format.ts';
import { readStackEnv } from '../../services/lib/config.ts';

const props = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );

describe('Kafka config', () => {
  const p = props(kafkaServerProperties({ port: 19092, controllerPort: 19093, dataDir: '/d/kafka' }));

  it('is one KRaft node, broker and controller, on loopback with the given ports', () => {
    expect(p['process.roles']).toBe('broker,controller');
    expect(p.listeners).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(p['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(p['controller.quorum.bootstrap.servers']).toBe('127.0.0.1:19093');
    expect(p['log.dirs']).toBe('/d/kafka');
  });

  it('uses replication factor 1 for internal topics and never auto-creates topics', () => {
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
    ]) {
      expect(p[key], key).toBe('1');
    }
    expect(p['auto.create.topics.enable']).toBe('false');
    expect(p['num.partitions']).toBe('3');
    expect(p['group.initial.rebalance.delay.ms']).toBe('0');
  });

  it('sends broker logs to the given folder', () => {
    expect(kafkaLog4j2('/l')).toContain('fileName: /l/kafka-server.log');
  });

  it('makes cluster ids the way kafka-storage random-uuid does: 16 bytes, base64url, no padding', () => {
    const ids = new Set(Array.from({ length: 50 }, newClusterId));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});

describe('registry, ClickHouse and Redis config', () => {
  it('runs Apicurio on KafkaSQL with Confluent-style global ids, bound to loopback', () => {
    const env = registryEnv({
      port: 18081,
      managementPort: 18082,
      kafkaBootstrap: '127.0.0.1:19092',
      dataDir: '/d',
    });
    expect(env).toMatchObject({
      QUARKUS_HTTP_HOST: '127.0.0.1',
      QUARKUS_HTTP_PORT: '18081',
      QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
      QUARKUS_MANAGEMENT_PORT: '18082',
      APICURIO_STORAGE_KIND: 'kafkasql',
      APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: '127.0.0.1:19092',
      APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED: 'true',
    });
  });

  it('keeps ClickHouse on loopback, with every path under the data folder and small caches', () => {
    const xml = clickhouseConfigXml({ httpPort: 18123, tcpPort: 19000, dataDir: '/d/ch', logsDir: '/l' });
    expect(xml).toContain('<http_port>18123</http_port>');
    expect(xml).toContain('<tcp_port>19000</tcp_port>');
    expect(xml).toContain('<listen_host>127.0.0.1</listen_host>');
    const paths = [...xml.matchAll(/<(path|tmp_path|user_files_path|format_schema_path)>([^<]+)</g)];
    expect(paths).toHaveLength(4);
    for (const [, tag, path] of paths) expect(path, tag).toMatch(/^\/d\/ch\//);
    const cache = Number(/<mark_cache_size>(\d+)</.exec(xml)?.[1]);
    expect(cache).toBeLessThanOrEqual(256 * 1024 * 1024);
    expect(clickhouseUsersXml()).toContain('<ip>127.0.0.1</ip>');
    expect(clickhouseUsersXml()).not.toContain('::/0');
  });

  it('runs Redis in the foreground with AOF on, under the data folder', () => {
    const conf = redisConf({ port: 16379, dataDir: '/d/redis' });
    expect(conf).toMatch(/^port 16379$/m);
    expect(conf).toMatch(/^bind 127\.0\.0\.1$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^save ""$/m);
    expect(conf).toMatch(/^daemonize no$/m);
    expect(conf).toMatch(/^dir \/d\/redis$/m);
  });
});

describe('version probes', () => {
  it('reads redis_version from INFO', () => {
    expect(parseRedisVersion('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n')).toBe('7.0.15');
    expect(() => parseRedisVersion('# Server\r\n')).toThrow(/redis_version/);
  });

  it('reads a module version from go build info', () => {
    const info = [
      '/x/stripe-mock: go1.26.8',
      '\tpath\tgithub.com/stripe/stripe-mock',
      '\tmod\tgithub.com/stripe/stripe-mock\tv0.203.0\th1:abc=',
      '\tdep\tgithub.com/x/y\tv1.0.0\th1:def=',
    ].join('\n');
    expect(parseGoModVersion(info, 'github.com/stripe/stripe-mock')).toBe('v0.203.0');
    expect(() => parseGoModVersion(info, 'github.com/other')).toThrow(/no module/);
  });

  it('waits for a whole RESP reply before answering', () => {
    expect(completeReply('+PON')).toBeUndefined();
    expect(completeReply('+PONG\r\n')).toBe('+PONG');
    expect(completeReply('-ERR nope\r\n')).toBe('-ERR nope');
    expect(completeReply('$5\r\nab')).toBeUndefined();
    expect(completeReply('$5\r\nabcde\r\n')).toBe('abcde');
    // The length counts bytes, not characters.
    expect(completeReply('$4\r\né€')).toBeUndefined();
    expect(completeReply('$5\r\né€\r\n')).toBe('é€');
  });
});

describe('ports and Java', () => {
  it('takes STACK_<NAME>_PORT over the default and rejects what is not a port', () => {
    expect(portFromEnv('KAFKA', 9092, {})).toBe(9092);
    expect(portFromEnv('KAFKA', 9092, { STACK_KAFKA_PORT: '29092' })).toBe(29092);
    expect(() => portFromEnv('KAFKA', 9092, { STACK_KAFKA_PORT: '70000' })).toThrow(/STACK_KAFKA_PORT=70000/);
    expect(() => portFromEnv('KAFKA', 9092, { STACK_KAFKA_PORT: 'abc' })).toThrow(/not a TCP port/);
  });

  it('every component has a distinct port and unique name', () => {
    expect(new Set(COMPONENTS.map((c) => c.port)).size).toBe(COMPONENTS.length);
    expect(new Set(COMPONENTS.map((c) => c.name)).size).toBe(COMPONENTS.length);
    expect(componentByName('kafka').name).toBe('kafka');
    expect(() => componentByName('zookeeper')).toThrow(/unknown component "zookeeper"/);
  });

  it('parses JDK release files', () => {
    expect(javaMajor('JAVA_VERSION="25.0.3"\n')).toBe(25);
    expect(javaMajor('IMPLEMENTOR="x"\nJAVA_VERSION="17.0.15"\n')).toBe(17);
    expect(javaMajor('JAVA_VERSION="1.8.0_402"\n')).toBe(8);
    expect(javaMajor('nothing')).toBeUndefined();
  });

  it('picks the newest JDK that is new enough, or says what is missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'jvm-'));
    const jdk = (dir: string, version: string) => {
      mkdirSync(join(root, dir, 'bin'), { recursive: true });
      writeFileSync(join(root, dir, 'release'), `JAVA_VERSION="${version}"\n`);
      writeFileSync(join(root, dir, 'bin', 'java'), '');
    };
    jdk('java-17', '17.0.15');
    expect(() => findJava(21, root, {})).toThrow(/no Java 21\+ found/);
    jdk('jdk-21', '21.0.4');
    jdk('jdk-25', '25.0.3');
    expect(findJava(21, root, {})).toBe(join(root, 'jdk-25', 'bin', 'java'));
    expect(findJava(17, root, { STACK_JAVA_HOME: join(root, 'java-17') })).toBe(
      join(root, 'java-17', 'bin', 'java'),
    );
  });
});

describe('.stack/env', () => {
  it('is written in the format services/lib/config.ts reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-env-'));
    const file = join(dir, 'nested', 'env');
    const vars = {
      KAFKA_BROKERS: '127.0.0.1:9092',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
      PYTHON: '/v/bin/python',
    };
    writeEnvFile(file, vars);
    expect(readStackEnv(file)).toEqual(vars);
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe('KAFKA_BROKERS=127.0.0.1:9092');
  });

  it('refuses keys or values that would not read back', () => {
    expect(() => renderEnv({ 'bad-key': 'x' })).toThrow(/invalid env key/);
    expect(() => renderEnv({ GOOD: 'two\nlines' })).toThrow(/spans lines/);
  });
});

describe('status lines', () => {
  it('prints one aligned line per component with version or reason', () => {
    const text = formatStatus([
      { name: 'kafka', address: '127.0.0.1:9092', healthy: true, pid: 11, version: '4.1.1' },
      { name: 'stripe-mock', address: '127.0.0.1:12111', healthy: false, reason: 'not running' },
    ]);
    expect(text.split('\n')).toEqual([
      'kafka        127.0.0.1:9092   healthy  4.1.1  pid 11',
      'stripe-mock  127.0.0.1:12111  down     not running',
    ]);
  });
});
