import type { IHeaders } from 'kafkajs';
import type { LeadRejection } from '../../schemas/generated.ts';
import type { RecordName } from '../../schemas/index.ts';
import type { Logger } from './logger.ts';
import type { PhaseResult } from './result.ts';

/** Where the input record came from, for phases that need provenance (e.g. ids for direct producers). */
export interface PhaseContext {
  phase: string;
  /** Full topic name (with the isolation prefix) and its base name (TOPICS.*). */
  topic: string;
  baseTopic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  /** Broker timestamp, epoch milliseconds as a string (kafkajs' representation). */
  timestamp: string;
  headers: IHeaders;
  /** 0 on the first call; n on the n-th retry after a throw. */
  attempt: number;
  log: Logger;
}

export type MaybePromise<T> = T | Promise<T>;

interface PhaseCommon<In, Out> {
  /** Phase name: consumer group `leedrush.<name>`, `dlq_phase` header, log and metric label. */
  name: string;
  input: { topic: string; record: RecordName };
  /**
   * More topics read by the same consumer group, each with its own record and DLQ (the sink reads
   * leads.scored and leads.failed). `ctx.baseTopic` tells which topic an input came from.
   */
  moreInputs?: ReadonlyArray<{ topic: string; record: RecordName }>;
  /** Absent for terminal consumers (e.g. a sink): `ok` then just means "done". */
  output?: { topic: string; record: RecordName };
  /** Message key of an output (its partition). Default: the input message's key. */
  keyOf?: (out: Out) => string | Buffer | null;
  /**
   * The leads.failed record of a rejected input; the reject's own `fields` are laid over it. Without it
   * a `reject` goes to the DLQ, since a rejection that cannot be recorded must not vanish.
   */
  rejectionOf?: (input: In, reason: string, detail: string, ctx: PhaseContext) => LeadRejection;
}

/** One input → one result. Throwing means a transient failure: retried with backoff, then DLQ. */
export interface MapPhase<In, Out> extends PhaseCommon<In, Out> {
  phase: (input: In, ctx: PhaseContext) => MaybePromise<PhaseResult<Out>>;
}

/**
 * One input → a stream of results (ingest: a BatchRequest → its RawLeads). The runtime pulls the
 * stream in chunks and waits for the broker's acknowledgement before pulling more (back-pressure).
 * The stream must be deterministic: after a throw it is restarted and the results already routed are
 * skipped.
 */
export interface ExpandPhase<In, Out> extends PhaseCommon<In, Out> {
  expand: (input: In, ctx: PhaseContext) => AsyncIterable<PhaseResult<Out>> | Iterable<PhaseResult<Out>>;
}

/**
 * Many inputs → as many results, in order (a sink's bulk insert, a provider's bulk lookup). A throw
 * retries the whole call, then sends every input of the call to the DLQ.
 */
export interface BatchPhase<In, Out> extends PhaseCommon<In, Out> {
  batch: (inputs: In[], ctxs: PhaseContext[]) => Promise<PhaseResult<Out>[]>;
  /** Most inputs per call (default: the whole consumed batch). */
  maxBatch?: number;
}

export type PhaseDefinition<In, Out> = MapPhase<In, Out> | ExpandPhase<In, Out> | BatchPhase<In, Out>;

/** Identity function that lets TypeScript infer In/Out from the phase function. */
export const definePhase = <In, Out>(def: PhaseDefinition<In, Out>): PhaseDefinition<In, Out> => def;
