import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptEnsure } from '../apt.ts';
import { type Component, portFromEnv, type StackContext } from '../component.ts';
import type { StackPaths } from '../paths.ts';
import { redisCommand } from '../resp.ts';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;
const port = portFromEnv('REDIS', DEFAULT_PORT);
const confFile = (p: StackPaths) => join(p.conf, 'redis.conf');

/**
 * AOF on (credits and batch progress must survive a restart), foreground, loopback only. No RDB
 * snapshots besides: the AOF is the durable copy (its rewrites start from an RDB preamble), and a
 * snapshot every 5 minutes forked a multi-GB Redis during a 1,000,000-lead run, stalling commands past
 * their 2 s timeout. noeviction:
 * every key is state, none a cache that may vanish. 4 GB because an open 1,000,000-lead file batch
 * needs about 1.7 GB at its peak (services/dedupe/README.md, "Redis"), and at the limit Redis refuses
 * writes rather than losing state.
 */
export function redisConf(s: { port: number; dataDir: string }): string {
  return `${[
    `bind ${HOST}`,
    'protected-mode yes',
    `port ${s.port}`,
    'daemonize no',
    `dir ${s.dataDir}`,
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    'maxmemory 4gb',
    'maxmemory-policy noeviction',
    'loglevel notice',
    'logfile ""',
  ].join('\n')}\n`;
}

async function prepare(ctx: StackContext): Promise<void> {
  const dataDir = join(ctx.paths.data, 'redis');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(ctx.paths.conf, { recursive: true });
  writeFileSync(confFile(ctx.paths), redisConf({ port, dataDir }));
}

/** redis_version from the INFO server section. */
export function parseRedisVersion(info: string): string {
  const m = /^redis_version:(.+)$/m.exec(info);
  if (!m?.[1]) throw new Error('INFO has no redis_version');
  return m[1].trim();
}

export const redis: Component = {
  name: 'redis',
  host: HOST,
  port,
  defaultPort: DEFAULT_PORT,
  env: { REDIS_URL: `redis://${HOST}:${port}` },
  install: (ctx) => aptEnsure(['redis-server'], ctx.log),
  prepare,
  launch: (ctx) => ({ cmd: 'redis-server', args: [confFile(ctx.paths)] }),
  health: async () => {
    const reply = await redisCommand(HOST, port, 'PING');
    if (reply !== '+PONG') throw new Error(`PING answered ${reply}`);
  },
  version: async () => parseRedisVersion(await redisCommand(HOST, port, 'INFO server')),
  startTimeoutMs: 30_000,
};
