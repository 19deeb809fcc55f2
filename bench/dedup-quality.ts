/**
 * Dedup quality benchmark: generates a batch with known duplicate clusters (bench/lib/dedup-dataset.ts),
 * runs the real blocking + Fellegi–Sunter comparison + clustering (services/dedupe/resolve.ts) and
 * prints pairwise precision / recall / F1, cluster-level exactness, blocking recall and timing; writes
 * .bench/dedup.json.
 *
 *   npm run bench:dedup                      # held-out seed 2, 20,000 leads, the shipped model
 *   npm run bench:dedup -- --seed 7 --leads 5000
 *   npm run bench:dedup -- --fit --seed 1    # EM-estimate m/u/prior on the TRAINING seed and print them
 *   npm run bench:dedup -- --em              # also report a model EM-refitted on this very batch (no labels)
 *   npm run bench:dedup -- --threshold 0.8   # another match threshold
 *   npm run bench:dedup -- --history         # also: first half as an earlier batch in the real Redis history
 *                                            # index (local stack), second half deduped against it
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DedupedLead, EnrichedLead } from '../schemas/generated.ts';
import { BatchIndex } from '../services/dedupe/batch-index.ts';
import { candidatePairs } from '../services/dedupe/candidates.ts';
import { compare, type Prepared, prepare } from '../services/dedupe/compare.ts';
import { DEFAULT_SETTINGS, type DedupeSettings } from '../services/dedupe/config.ts';
import { estimateModel } from '../services/dedupe/estimate.ts';
import { HistoryIndex } from '../services/dedupe/history-index.ts';
import { toMatchRecord } from '../services/dedupe/match-record.ts';
import { DEFAULT_MODEL, type MatchModel } from '../services/dedupe/model.ts';
import { resolveBatch } from '../services/dedupe/resolve.ts';
import { loadConfig, REPO_ROOT } from '../services/lib/config.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { DEFAULT_DATASET, type DedupDataset, generateDedupDataset } from './lib/dedup-dataset.ts';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '2' },
    leads: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    fit: { type: 'boolean', default: false },
    em: { type: 'boolean', default: false },
    threshold: { type: 'string' },
    history: { type: 'boolean', default: false },
  },
});

const pairsOf = (k: number) => (k * (k - 1)) / 2;

interface Quality {
  precision: number;
  recall: number;
  f1: number;
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
  /** Share of real people whose records form exactly one predicted cluster, nothing more or less. */
  exactClusters: number;
}

function quality(data: DedupDataset, out: DedupedLead[]): Quality {
  const predicted = new Map<string, string[]>();
  for (const l of out) {
    const cluster = l.dedup.survivor_id ?? l.meta.lead_id;
    predicted.set(cluster, [...(predicted.get(cluster) ?? []), l.meta.lead_id]);
  }
  const truth = new Map<number, string[]>();
  for (const [id, entity] of data.entityOf) truth.set(entity, [...(truth.get(entity) ?? []), id]);

  let predictedPairs = 0;
  let correctPairs = 0;
  const clusterOf = new Map<string, string>();
  for (const [cluster, members] of predicted) {
    predictedPairs += pairsOf(members.length);
    const byEntity = new Map<number, number>();
    for (const m of members) {
      clusterOf.set(m, cluster);
      const e = data.entityOf.get(m) as number;
      byEntity.set(e, (byEntity.get(e) ?? 0) + 1);
    }
    for (const k of byEntity.values()) correctPairs += pairsOf(k);
  }
  let truePairs = 0;
  let exact = 0;
  for (const members of truth.values()) {
    truePairs += pairsOf(members.length);
    const cluster = clusterOf.get(members[0] as string) as string;
    if (
      members.every((m) => clusterOf.get(m) === cluster) &&
      predicted.get(cluster)?.length === members.length
    )
      exact++;
  }
  const precision = predictedPairs ? correctPairs / predictedPairs : 1;
  const recall = truePairs ? correctPairs / truePairs : 1;
  return {
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    truePairs,
    predictedPairs,
    correctPairs,
    exactClusters: exact / truth.size,
  };
}

/** Share of true duplicate pairs that blocking makes candidates at all: the ceiling on recall. */
function blockingRecall(data: DedupDataset, prepared: Prepared[], settings: DedupeSettings) {
  const pairs = candidatePairs(prepared, settings);
  let found = 0;
  for (const [i, j] of pairs) {
    if (data.entityOf.get(prepared[i]?.rec.id as string) === data.entityOf.get(prepared[j]?.rec.id as string))
      found++;
  }
  let truePairs = 0;
  const sizes = new Map<number, number>();
  for (const e of data.entityOf.values()) sizes.set(e, (sizes.get(e) ?? 0) + 1);
  for (const k of sizes.values()) truePairs += pairsOf(k);
  return { candidatePairs: pairs.length, recall: truePairs ? found / truePairs : 1 };
}

function fitModel(prepared: Prepared[], settings: DedupeSettings): MatchModel {
  const levels = candidatePairs(prepared, settings).map(
    ([i, j]) => compare(prepared[i] as Prepared, prepared[j] as Prepared, settings.model).levels,
  );
  return estimateModel(levels, settings.model);
}

/**
 * The same leads as two batches of one account: rows of the first half are resolved and indexed in the
 * real Redis history index, then the second half is resolved against it. Quality is over both.
 */
async function acrossBatches(data: DedupDataset, settings: DedupeSettings) {
  const env = loadConfig();
  const redis = createRedis(env.REDIS_URL, 'bench-dedup');
  const ns = keyspace(`bench_dedup_${process.pid}`);
  const index = new HistoryIndex(redis, ns);
  const account = 'acct_bench';
  const half = Math.floor(data.leads.length / 2);
  const rename = (l: EnrichedLead): EnrichedLead => ({
    ...l,
    meta: { ...l.meta, batch_id: 'batch_bench_2', lead_id: `batch_bench_2:${l.meta.row_index}` },
  });
  const first = data.leads.filter((l) => l.meta.row_index < half);
  const second = data.leads.filter((l) => l.meta.row_index >= half).map(rename);
  const entityOf = new Map<string, number>();
  for (const l of first) entityOf.set(l.meta.lead_id, data.entityOf.get(l.meta.lead_id) as number);
  for (const l of second) {
    entityOf.set(
      l.meta.lead_id,
      data.entityOf.get(`${DEFAULT_DATASET.batchId}:${l.meta.row_index}`) as number,
    );
  }
  try {
    const one = resolveBatch(first, [], settings);
    let t = performance.now();
    await index.add(account, one.historyEntries);
    const addMs = performance.now() - t;
    t = performance.now();
    const history = await index.candidatesFor(account, BatchIndex.of(second, settings));
    const lookupMs = performance.now() - t;
    t = performance.now();
    const two = resolveBatch(second, history, settings);
    const resolveMs = performance.now() - t;
    const both: DedupDataset = { leads: [...first, ...second], entityOf };
    return {
      quality: quality(both, [...one.leads, ...two.leads]),
      historyDuplicates: two.stats.historyDuplicates,
      historyCandidates: history.length,
      addMs,
      lookupMs,
      resolveMs,
    };
  } finally {
    await redis.del(
      ns('dedup', `{${account}}`, 'blocks'),
      ns('dedup', `{${account}}`, 'rec'),
      ns('dedup', `{${account}}`, 'ids'),
    );
    redis.disconnect();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function run(data: DedupDataset, settings: DedupeSettings, runs: number) {
  const times: number[] = [];
  let result = resolveBatch(data.leads, [], settings);
  for (let r = 0; r < Math.max(1, runs); r++) {
    const t0 = performance.now();
    result = resolveBatch(data.leads, [], settings);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  return {
    quality: quality(data, result.leads),
    stats: result.stats,
    medianMs: ms,
    leadsPerSecond: data.leads.length / (ms / 1000),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
function print(label: string, r: ReturnType<typeof run>) {
  const q = r.quality;
  console.log(
    `${label.padEnd(22)} precision ${pct(q.precision)}  recall ${pct(q.recall)}  F1 ${pct(q.f1)}  exact clusters ${pct(q.exactClusters)}  ` +
      `(pairs: ${q.correctPairs} correct / ${q.predictedPairs} predicted / ${q.truePairs} true)  ` +
      `${r.medianMs.toFixed(0)} ms median, ${Math.round(r.leadsPerSecond)} leads/s`,
  );
}

const seed = Number(args.seed);
const leads = Number(args.leads);
const data = generateDedupDataset({ seed, leads });
const prepared = data.leads.map((l) => prepare(toMatchRecord(l)));
const settings: DedupeSettings = args.threshold
  ? { ...DEFAULT_SETTINGS, matchThreshold: Number(args.threshold) }
  : DEFAULT_SETTINGS;

if (args.fit) {
  const fitted = fitModel(prepared, settings);
  console.log(JSON.stringify(fitted, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(3)) : v), 2));
  process.exit(0);
}

const blocking = blockingRecall(data, prepared, settings);
console.log(
  `dedup benchmark: seed ${seed}, ${data.leads.length} leads, ${new Set(data.entityOf.values()).size} people; ` +
    `blocking: ${blocking.candidatePairs} candidate pairs, pair recall ${pct(blocking.recall)}`,
);
const shipped = run(data, settings, Number(args.runs));
print('shipped model', shipped);
const report: Record<string, unknown> = {
  seed,
  leads: data.leads.length,
  people: new Set(data.entityOf.values()).size,
  thresholds: { match: settings.matchThreshold, possible: settings.possibleThreshold },
  blocking,
  shipped,
  model: DEFAULT_MODEL,
};
if (args.em) {
  const refit = fitModel(prepared, settings);
  const emRun = run(data, { ...settings, model: refit }, Number(args.runs));
  print('EM refit on this batch', emRun);
  report.emRefit = { ...emRun, model: refit };
}
if (args.history) {
  const across = await acrossBatches(data, settings);
  console.log(
    `${'two batches, history'.padEnd(22)} precision ${pct(across.quality.precision)}  recall ${pct(across.quality.recall)}  ` +
      `F1 ${pct(across.quality.f1)}  (${across.historyDuplicates} second-batch leads marked duplicates of the first)  ` +
      `index ${across.addMs.toFixed(0)} ms, lookup ${across.lookupMs.toFixed(0)} ms, resolve ${across.resolveMs.toFixed(0)} ms`,
  );
  report.history = across;
}
const dir = join(REPO_ROOT, '.bench');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'dedup.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${join(dir, 'dedup.json')}`);
