import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';
import { DEFAULT_HISTORY_OPTIONS, type HistoryIndexOptions } from './history-index.ts';
import { DEFAULT_MODEL, type MatchModel } from './model.ts';

/** What the pure dedup core needs to decide. */
export interface DedupeSettings {
  model: MatchModel;
  /** Pairs at or above this probability are linked into one cluster. */
  matchThreshold: number;
  /** Pairs between this and matchThreshold are "possible" duplicates: counted, not linked. */
  possibleThreshold: number;
  /** A blocking key with more members than this is compared by sorted neighbourhood, not all pairs. */
  maxBlockSize: number;
  /** Neighbours each member of an oversized block is compared with. */
  blockWindow: number;
}

export const DEFAULT_SETTINGS: DedupeSettings = {
  model: DEFAULT_MODEL,
  matchThreshold: 0.9,
  possibleThreshold: 0.5,
  maxBlockSize: 64,
  blockWindow: 8,
};

/** When open batches are closed without being complete (services/dedupe/README.md, "Open batches"). */
export interface OpenBatchPolicy {
  streamWindowLeads: number;
  streamIdleMs: number;
  openTtlMs: number;
}

export const DEFAULT_POLICY: OpenBatchPolicy = {
  streamWindowLeads: 1_000,
  streamIdleMs: 5_000,
  openTtlMs: 72 * 3_600_000,
};

const probability = (def: number) => z.coerce.number().gt(0).lt(1).default(def);
const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/** Environment of the dedupe service: BaseConfig plus thresholds and the history index's bounds. */
export const DedupeConfig = BaseConfig.extend({
  DEDUP_MATCH_THRESHOLD: probability(DEFAULT_SETTINGS.matchThreshold),
  DEDUP_POSSIBLE_THRESHOLD: probability(DEFAULT_SETTINGS.possibleThreshold),
  DEDUP_PRIOR: probability(DEFAULT_MODEL.prior),
  DEDUP_MAX_BLOCK_SIZE: positiveInt(DEFAULT_SETTINGS.maxBlockSize),
  DEDUP_BLOCK_WINDOW: positiveInt(DEFAULT_SETTINGS.blockWindow),
  /** History entries older than this are ignored and removed; an idle account's index expires whole. */
  DEDUP_HISTORY_TTL_DAYS: positiveInt(90),
  /** Most recent lead ids kept per blocking key. */
  DEDUP_HISTORY_KEY_CAP: positiveInt(DEFAULT_HISTORY_OPTIONS.keyCap),
  /** Most recent leads kept per account; the oldest are evicted first. */
  DEDUP_HISTORY_ACCOUNT_CAP: positiveInt(DEFAULT_HISTORY_OPTIONS.accountCap),
  /** How often each instance sweeps its open batches: completion by late rejections, idle windows, expiry. */
  DEDUP_FINALIZE_INTERVAL_MS: positiveInt(2_000),
  /** A stream batch's window is resolved once it holds this many leads ... */
  DEDUP_STREAM_WINDOW_LEADS: positiveInt(DEFAULT_POLICY.streamWindowLeads),
  /** ... or once no lead has joined it for this long. */
  DEDUP_STREAM_IDLE_MS: positiveInt(DEFAULT_POLICY.streamIdleMs),
  /** An open batch that has received no lead for this long will not complete: its state is dropped. */
  DEDUP_OPEN_TTL_MS: positiveInt(DEFAULT_POLICY.openTtlMs),
}).refine((c) => c.DEDUP_POSSIBLE_THRESHOLD <= c.DEDUP_MATCH_THRESHOLD, {
  message: 'DEDUP_POSSIBLE_THRESHOLD must not exceed DEDUP_MATCH_THRESHOLD',
  path: ['DEDUP_POSSIBLE_THRESHOLD'],
});

export type DedupeEnv = z.infer<typeof DedupeConfig>;

export function settingsFromEnv(env: DedupeEnv): DedupeSettings {
  return {
    model: { ...DEFAULT_MODEL, prior: env.DEDUP_PRIOR },
    matchThreshold: env.DEDUP_MATCH_THRESHOLD,
    possibleThreshold: env.DEDUP_POSSIBLE_THRESHOLD,
    maxBlockSize: env.DEDUP_MAX_BLOCK_SIZE,
    blockWindow: env.DEDUP_BLOCK_WINDOW,
  };
}

export function historyOptionsFromEnv(env: DedupeEnv): HistoryIndexOptions {
  return {
    ...DEFAULT_HISTORY_OPTIONS,
    ttlMs: env.DEDUP_HISTORY_TTL_DAYS * 86_400_000,
    keyCap: env.DEDUP_HISTORY_KEY_CAP,
    accountCap: env.DEDUP_HISTORY_ACCOUNT_CAP,
  };
}

export function policyFromEnv(env: DedupeEnv): OpenBatchPolicy {
  return {
    streamWindowLeads: env.DEDUP_STREAM_WINDOW_LEADS,
    streamIdleMs: env.DEDUP_STREAM_IDLE_MS,
    openTtlMs: env.DEDUP_OPEN_TTL_MS,
  };
}
