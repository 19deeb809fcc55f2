import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { SchemaSource } from './codec.ts';

/** mappersmith middleware: every registry call gets a deadline, so a hung registry cannot hang a batch. */
const timeout = (ms: number) => () => ({
  async prepareRequest(next: () => Promise<{ enhance(o: { timeout: number }): unknown }>) {
    return (await next()).enhance({ timeout: ms });
  },
});

const statusOf = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'status' in err
    ? Number((err as { status: unknown }).status)
    : undefined;

/**
 * The Confluent-API schema registry (Apicurio's /apis/ccompat/v7 here) as a SchemaSource. Lookups
 * happen once per schema id or subject; the codec caches the result.
 */
export function registrySchemaSource(url: string, timeoutMs = 5_000): SchemaSource {
  const registry = new SchemaRegistry({
    host: url,
    clientId: 'leedrush-runtime',
    retry: { retries: 2 },
    // biome-ignore lint/suspicious/noExplicitAny: mappersmith's middleware type is not exported by the client
    middlewares: [timeout(timeoutMs) as any],
  });
  return {
    async schemaById(id) {
      try {
        const type = (await registry.getSchema(id)) as unknown as { schema(): unknown };
        return JSON.stringify(type.schema());
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async idForSchema(subject, avsc) {
      try {
        return await registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: avsc });
      } catch (err) {
        // The library turns a 404 into a status-less error: anything else than "not registered" rethrows below.
        if (!(err instanceof Error) || err.name !== 'ConfluentSchemaRegistryError') throw err;
      }
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: avsc }, { subject });
      return id;
    },
  };
}
