import { Redis, type RedisOptions } from 'ioredis';

/** One connection per process role; commands time out instead of hanging the request path. */
export function createRedis(url: string, name = 'leedrush', options: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    ...options,
  });
}

/** Redis key namespace: the isolation prefix keeps test runs apart on one server. */
export function keyspace(prefix: string): (...parts: string[]) => string {
  const head = prefix ? `${prefix}:ld` : 'ld';
  return (...parts) => [head, ...parts].join(':');
}
