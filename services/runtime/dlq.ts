import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** Where a poisoned message came from; the DLQ copy carries it as headers. */
export interface DlqOrigin {
  phase: string;
  topic: string;
  partition: number;
  offset: string;
}

export function dlqHeaders(reason: string, origin: DlqOrigin): Record<string, string> {
  return {
    dlq_reason: reason,
    dlq_phase: origin.phase,
    dlq_topic: origin.topic,
    dlq_partition: String(origin.partition),
    dlq_offset: origin.offset,
  };
}

/**
 * The DLQ copy of a message: its original key and value bytes untouched (so it can be replayed as is),
 * its original headers, and the dlq_* headers saying why and from where.
 */
export function dlqMessage(original: KafkaMessage, reason: string, origin: DlqOrigin): Message {
  const headers: IHeaders = { ...original.headers, ...dlqHeaders(reason, origin) };
  return { key: original.key, value: original.value, headers };
}
