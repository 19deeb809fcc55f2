import { Kafka, type Producer } from 'kafkajs';
import type { RecordName } from '../../schemas/index.ts';
import { AvroCodec, createLogger, type Encoder, registrySchemaSource } from '../runtime/index.ts';
import { kafkaLogCreator } from '../runtime/logger.ts';
import type { Config } from './config.ts';
import { topicName } from './names.ts';
import { keyHashPartitioner } from './partitioner.ts';

/**
 * Produces Avro records (Confluent wire format) outside the phase runtime: the gateway's batch
 * requests, the sink's webhook events. Sends are acknowledged by all in-sync replicas before they
 * resolve, so a caller that answers "queued" knows the request is durable.
 */
export class RecordPublisher {
  private readonly encoders = new Map<string, Promise<Encoder<unknown>>>();

  private constructor(
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly prefix: string,
  ) {}

  static async connect(config: Config, clientId: string): Promise<RecordPublisher> {
    const kafka = new Kafka({
      clientId,
      brokers: config.KAFKA_BROKERS,
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      logCreator: kafkaLogCreator(createLogger(clientId, config.LOG_LEVEL)),
    });
    const producer = kafka.producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      createPartitioner: keyHashPartitioner,
    });
    await producer.connect();
    const codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
    return new RecordPublisher(producer, codec, config.LEEDRUSH_PREFIX);
  }

  /** `key` is one key for every record, or a record's own key. */
  async publish<T>(
    baseTopic: string,
    record: RecordName,
    key: string | ((value: T) => string),
    values: T[],
  ): Promise<void> {
    const topic = topicName(this.prefix, baseTopic);
    const cacheKey = `${topic}|${record}`;
    let encoder = this.encoders.get(cacheKey);
    if (!encoder) {
      encoder = this.codec.encoderFor(topic, record);
      // A failed lookup (registry down) must not be cached for ever.
      encoder.catch(() => this.encoders.delete(cacheKey));
      this.encoders.set(cacheKey, encoder);
    }
    const { encode } = await encoder;
    await this.producer.send({
      topic,
      acks: -1,
      timeout: 15_000,
      messages: values.map((v) => ({ key: typeof key === 'string' ? key : key(v), value: encode(v) })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
