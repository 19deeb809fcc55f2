import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/lib/config.ts';

// The project's own client libraries against the native stack: proof that the versions the stack runs
// speak what the services need (kafkajs against Kafka 4.x, the Confluent client against Apicurio's ccompat
// API, @clickhouse/client against ClickHouse 18.16, ioredis, the Stripe SDK against stripe-mock).
const config = loadConfig();
const run = randomUUID().slice(0, 8);

describe('client libraries against the native stack', () => {
  const kafka = new Kafka({
    clientId: `stack-test-${run}`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = `stack-test-${run}`;

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('kafkajs creates a topic, produces idempotently and transactionally, and consumes in a group', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'a', value: 'plain' }] });
    const tx = kafka.producer({
      transactionalId: `stack-test-${run}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({ topic, messages: [{ key: 'b', value: 'in-transaction' }] });
    await t.commit();

    const groupId = `stack-test-${run}`;
    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          if (seen.length === 2) resolve();
        },
      });
    });
    await consumer.stop();
    await consumer.disconnect();
    await Promise.all([producer.disconnect(), tx.disconnect()]);
    expect(seen.sort()).toEqual(['in-transaction', 'plain']);

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    // 2 records + 1 transaction marker: the group committed past everything it read.
    expect(total).toBeGreaterThanOrEqual(2);
    await admin.deleteGroups([groupId]);
  });

  it('the Confluent registry client registers, encodes and decodes through the ccompat API', async () => {
    const registry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
    const subject = `stack-test-${run}-value`;
    const schema = JSON.stringify({
      type: 'record',
      name: 'Probe',
      namespace: 'dev.leedrush.test',
      fields: [{ name: 'run', type: 'string' }],
    });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    const encoded = await registry.encode(id, { run });
    // Confluent wire format: magic byte 0, then the 4-byte schema id.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ run });
    // Legacy id mode: the id is the global id, so fetching it by id without the subject works.
    const byId = await fetch(`${config.SCHEMA_REGISTRY_URL}/schemas/ids/${id}`);
    expect(byId.status).toBe(200);
    for (const permanent of ['false', 'true']) {
      const res = await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects/${subject}?permanent=${permanent}`, {
        method: 'DELETE',
      });
      expect(res.status).toBe(200);
    }
  });

  it('@clickhouse/client runs queries on ClickHouse 18.16', async () => {
    const client = createClient({ url: config.CLICKHOUSE_URL, request_timeout: 10_000 });
    try {
      const rs = await client.query({ query: 'SELECT version() AS v, 1 + 1 AS two', format: 'JSONEachRow' });
      const rows = (await rs.json()) as { v: string; two: number | string }[];
      expect(rows[0]?.v).toMatch(/^18\.16\./);
      expect(Number(rows[0]?.two)).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('ioredis reads back what it wrote, on a server with AOF on', async () => {
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const key = `stack-test:${run}`;
      await redis.set(key, 'v', 'EX', 60);
      expect(await redis.get(key)).toBe('v');
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  it('the Stripe SDK talks to stripe-mock', async () => {
    const base = new URL(config.STRIPE_API_BASE ?? '');
    const stripe = new Stripe('sk_test_123', {
      host: base.hostname,
      port: Number(base.port),
      protocol: 'http',
      timeout: 10_000,
      maxNetworkRetries: 0,
    });
    const customer = await stripe.customers.create({ email: 'probe@example.com' });
    expect(customer.object).toBe('customer');
    expect(customer.id).toMatch(/^cus_/);
  });
});
