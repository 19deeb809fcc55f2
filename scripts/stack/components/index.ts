import type { Component } from '../component.ts';
import { clickhouse } from './clickhouse.ts';
import { dashboards } from './dashboards.ts';
import { kafka } from './kafka.ts';
import { prometheus } from './prometheus.ts';
import { redis } from './redis.ts';
import { registry } from './registry.ts';
import { sandbox } from './sandbox.ts';
import { stripeMock } from './stripe-mock.ts';

/**
 * Start order: Kafka first (the registry stores its schemas in Kafka), the dashboards after the Prometheus
 * and ClickHouse they read; stop order is the reverse.
 */
export const COMPONENTS: readonly Component[] = [
  kafka,
  registry,
  clickhouse,
  redis,
  stripeMock,
  sandbox,
  prometheus,
  dashboards,
];

export function componentByName(name: string): Component {
  const found = COMPONENTS.find((c) => c.name === name);
  if (!found)
    throw new Error(`unknown component "${name}"; known: ${COMPONENTS.map((c) => c.name).join(', ')}`);
  return found;
}
