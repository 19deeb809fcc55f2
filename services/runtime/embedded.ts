import type { LeadRejection } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';
import { topicName } from '../lib/names.ts';
import { createLogger, type Logger } from './logger.ts';
import type { PhaseContext, PhaseDefinition } from './phase.ts';
import type { PhaseResult } from './result.ts';
import { errorMessage, type RetryPolicy, settle } from './retry.ts';

export interface EmbeddedError {
  phase: string;
  reason: string;
  input: unknown;
}

export interface EmbeddedResult<Out> {
  outputs: Out[];
  rejections: LeadRejection[];
  errors: EmbeddedError[];
  dropped: number;
}

export interface EmbeddedOptions {
  retry?: RetryPolicy;
  log?: Logger;
}

// biome-ignore lint/suspicious/noExplicitAny: a chain links phases whose types differ from stage to stage
type AnyPhase = PhaseDefinition<any, any>;

/**
 * Runs phases chained in-process, without Kafka, with the runtime's result semantics: ok → next phase
 * (the last phase's oks are the outputs), reject → rejections (via rejectionOf), dlq or a throw after the
 * retries → errors, drop → counted. Every hand-off goes through the Avro schema of the topic it replaces,
 * so both modes see the same values.
 */
export async function runEmbedded<Out>(
  chain: AnyPhase[],
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  options: EmbeddedOptions = {},
): Promise<EmbeddedResult<Out>> {
  const retry = options.retry ?? { maxRetries: 3, baseMs: 50, capMs: 1_000 };
  const log = options.log ?? createLogger('leedrush-embedded', 'warn');
  const result: EmbeddedResult<Out> = { outputs: [], rejections: [], errors: [], dropped: 0 };
  const offsets = chain.map(() => 0);

  const handle = async (stage: number, value: unknown, r: PhaseResult<unknown>, ctx: PhaseContext) => {
    const def = chain[stage] as AnyPhase;
    switch (r.kind) {
      case 'ok': {
        let next: unknown;
        try {
          next = def.output ? roundTrip(def.output.record, r.value) : r.value;
        } catch (err) {
          result.errors.push({ phase: def.name, reason: errorMessage(err), input: value });
          return;
        }
        if (stage + 1 < chain.length) await feed(stage + 1, next);
        else result.outputs.push(next as Out);
        return;
      }
      case 'reject':
        if (def.rejectionOf)
          result.rejections.push({ ...def.rejectionOf(value, r.reason, r.detail, ctx), ...r.fields });
        else
          result.errors.push({
            phase: def.name,
            reason: `rejected (${r.reason}) without rejectionOf`,
            input: value,
          });
        return;
      case 'dlq':
        result.errors.push({ phase: def.name, reason: r.reason, input: value });
        return;
      case 'drop':
        result.dropped++;
    }
  };

  const feed = async (stage: number, value: unknown): Promise<void> => {
    const def = chain[stage] as AnyPhase;
    const offset = offsets[stage] ?? 0;
    offsets[stage] = offset + 1;
    const ctx = (attempt: number): PhaseContext => ({
      phase: def.name,
      topic: topicName('', def.input.topic),
      baseTopic: def.input.topic,
      partition: 0,
      offset: String(offset),
      key: null,
      timestamp: String(Date.now()),
      headers: {},
      attempt,
      log,
    });
    if ('phase' in def) {
      return handle(stage, value, await settle((a) => def.phase(value, ctx(a)), retry), ctx(0));
    }
    if ('batch' in def) {
      const r = await settle(async (a) => {
        const [one] = await def.batch([value], [ctx(a)]);
        if (!one) throw new Error('batch phase returned no result');
        return one;
      }, retry);
      return handle(stage, value, r, ctx(0));
    }
    let routed = 0;
    const r = await settle(async (a) => {
      let seen = 0;
      for await (const item of def.expand(value, ctx(a))) {
        if (seen++ < routed) continue;
        routed++;
        await handle(stage, value, item, ctx(a));
      }
      return { kind: 'drop' as const };
    }, retry);
    if (r.kind === 'dlq') result.errors.push({ phase: def.name, reason: r.reason, input: value });
  };

  const first = chain[0];
  if (!first) throw new Error('runEmbedded needs at least one phase');
  for await (const input of inputs) {
    let decoded: unknown;
    try {
      decoded = roundTrip(first.input.record, input);
    } catch (err) {
      result.errors.push({
        phase: first.name,
        reason: `invalid ${first.input.record}: ${errorMessage(err)}`,
        input,
      });
      continue;
    }
    await feed(0, decoded);
  }
  return result;
}

function roundTrip(record: Parameters<typeof loadSchema>[0], value: unknown): unknown {
  const { type } = loadSchema(record);
  return type.fromBuffer(type.toBuffer(value));
}
