import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from '../apt.ts';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import type { StackPaths } from '../paths.ts';
import { expectOk } from '../probes.ts';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8123;
const httpPort = portFromEnv('CLICKHOUSE', DEFAULT_PORT);
const tcpPort = portFromEnv('CLICKHOUSE_TCP', 9000);
const base = `http://${HOST}:${httpPort}`;

const confDir = (p: StackPaths) => join(p.conf, 'clickhouse');
const dataDir = (p: StackPaths) => join(p.data, 'clickhouse');

export interface ClickHouseSettings {
  httpPort: number;
  tcpPort: number;
  dataDir: string;
  logsDir: string;
}

/**
 * Server config for Debian's ClickHouse 18.16 (root element <yandex>, which current releases still
 * accept). Caches are a fraction of the defaults (8 GiB / 5 GiB) so it fits next to Kafka on a small box.
 */
export function clickhouseConfigXml(s: ClickHouseSettings): string {
  const data = s.dataDir.endsWith('/') ? s.dataDir : `${s.dataDir}/`;
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${join(s.logsDir, 'clickhouse-server.log')}</log>
    <errorlog>${join(s.logsDir, 'clickhouse-server.err.log')}</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <http_port>${s.httpPort}</http_port>
  <tcp_port>${s.tcpPort}</tcp_port>
  <listen_host>${HOST}</listen_host>
  <max_connections>512</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>64</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>134217728</mark_cache_size>
  <path>${data}</path>
  <tmp_path>${data}tmp/</tmp_path>
  <user_files_path>${data}user_files/</user_files_path>
  <format_schema_path>${data}format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
</yandex>
`;
}

/** One passwordless `default` user reachable from loopback only; queries capped at 2 GB of memory. */
export function clickhouseUsersXml(): string {
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;
}

async function prepare(ctx: StackContext): Promise<void> {
  const conf = confDir(ctx.paths);
  mkdirSync(conf, { recursive: true });
  mkdirSync(dataDir(ctx.paths), { recursive: true });
  writeFileSync(
    join(conf, 'config.xml'),
    clickhouseConfigXml({ httpPort, tcpPort, dataDir: dataDir(ctx.paths), logsDir: ctx.paths.logs }),
  );
  writeFileSync(join(conf, 'users.xml'), clickhouseUsersXml());
}

async function query(sql: string): Promise<string> {
  return (await expectOk(`${base}/?query=${encodeURIComponent(sql)}`)).trim();
}

export const clickhouse: Component = {
  name: 'clickhouse',
  host: HOST,
  port: httpPort,
  defaultPort: DEFAULT_PORT,
  env: { CLICKHOUSE_URL: base },
  install: (ctx) => aptEnsure(['clickhouse-server', 'clickhouse-client'], ctx.log),
  prepare,
  launch: (ctx) => ({
    cmd: 'clickhouse-server',
    args: [`--config-file=${join(confDir(ctx.paths), 'config.xml')}`],
  }),
  /** /ping alone answers before tables load; a query proves the server executes SQL. */
  health: async () => {
    const ping = (await expectOk(`${base}/ping`)).trim();
    if (ping !== 'Ok.') throw new Error(`/ping answered ${ping}`);
    if ((await query('SELECT 1')) !== '1') throw new Error('SELECT 1 did not return 1');
  },
  version: () => query('SELECT version()'),
  startTimeoutMs: 60_000,
};
