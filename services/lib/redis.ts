import { Redis, type RedisOptions } from 'ioredis';

/**
 * One connection per process role; commands time out instead of hanging the request path. ioredis
 * reconnects by itself; an outage is reported once (a pino-shaped line on stderr) rather than as an
 * "Unhandled error event" for every reconnect attempt.
 */
export function createRedis(url: string, name = 'leedrush', options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    ...options,
  });
  let reported = false;
  redis.on('ready', () => {
    reported = false;
  });
  redis.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    const line = {
      level: 40,
      time: Date.now(),
      name,
      msg: 'redis unreachable, reconnecting',
      err: err.message,
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  });
  return redis;
}

/** Redis key namespace: the isolation prefix keeps test runs apart on one server. */
export function keyspace(prefix: string): (...parts: string[]) => string {
  const head = prefix ? `${prefix}:ld` : 'ld';
  return (...parts) => [head, ...parts].join(':');
}
