import { type Consumer, Kafka } from 'kafkajs';
import type { StandardizedLead } from '../../../schemas/generated.ts';
import type { Config } from '../../lib/config.ts';
import { isFreeEmailDomain } from '../../lib/free-email-providers.ts';
import { groupId, TOPICS, topicName } from '../../lib/names.ts';
import { AvroCodec, type Logger, registrySchemaSource } from '../../runtime/index.ts';
import { kafkaLogCreator } from '../../runtime/logger.ts';
import { PatternDetector } from './patterns.ts';
import type { PreEnrichQueue } from './queue.ts';

/**
 * Watches leads.standardized (its own consumer group, so it sees leads while verify still works on them)
 * and queues the companies its patterns predict, so they are cached before their leads reach enrich.
 * Best effort: a lead it misses is simply enriched the ordinary way.
 */
export class PredictiveWatcher {
  readonly #detector = new PatternDetector();
  readonly #consumer: Consumer;
  readonly #codec: AvroCodec;

  constructor(
    private readonly config: Config,
    private readonly queue: PreEnrichQueue,
    private readonly log: Logger,
  ) {
    const kafka = new Kafka({
      clientId: 'leedrush-enrich-predictive',
      brokers: config.KAFKA_BROKERS,
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      logCreator: kafkaLogCreator(log),
    });
    this.#consumer = kafka.consumer({
      groupId: groupId(config.LEEDRUSH_PREFIX, 'enrich-predictive'),
      maxWaitTimeInMs: 500,
    });
    this.#codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  }

  async start(): Promise<void> {
    const decoder = this.#codec.decoderFor<StandardizedLead>('StandardizedLead');
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [topicName(this.config.LEEDRUSH_PREFIX, TOPICS.standardized)] });
    await this.#consumer.run({
      eachBatch: async ({ batch }) => {
        await decoder.prepare(batch.messages.map((m) => m.value));
        for (const m of batch.messages) {
          const d = decoder.decode(m.value);
          if (!d.ok) continue; // verify's DLQ handles unreadable records; a prediction is optional
          await this.#observe(d.value);
        }
      },
    });
  }

  async #observe({ meta, lead }: StandardizedLead): Promise<void> {
    const domain = lead.domain && !isFreeEmailDomain(lead.domain) ? lead.domain : null;
    const predictions = this.#detector.observe({
      batch_id: meta.batch_id,
      row_index: meta.row_index,
      domain,
      company_key: lead.company_key,
    });
    for (const p of predictions) {
      const queued = await this.queue.enqueue(p);
      this.log.debug({ ...p, queued }, 'company predicted');
    }
  }

  stop(): Promise<void> {
    return this.#consumer.disconnect();
  }
}
