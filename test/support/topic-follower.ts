/**
 * Follows a topic from its beginning with a throw-away consumer group, decoding every message with the
 * registry's schemas: the reading side of the Kafka tests. The group is named under the topic, so an
 * isolated prefix's cleanup deletes it with the topic.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { RecordName } from '../../schemas/index.ts';
import type { AvroCodec, Decoded } from '../../services/runtime/codec.ts';

/** Calls `onMessage` for every message as it arrives; resolves once subscribed, to the function that stops. */
export async function followTopic<T>(
  kafka: Kafka,
  codec: AvroCodec,
  topic: string,
  record: RecordName,
  onMessage: (decoded: Decoded<T>, message: KafkaMessage) => void,
): Promise<() => Promise<void>> {
  const decoder = codec.decoderFor<T>(record);
  const consumer = kafka.consumer({
    groupId: `${topic}.follow-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      await decoder.prepare(batch.messages.map((m) => m.value));
      for (const message of batch.messages) onMessage(decoder.decode(message.value), message);
    },
  });
  return () => consumer.disconnect();
}

/** The decoded value, or an error naming why the message could not be decoded (a test's own records). */
export function decodedOrThrow<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.value;
}
