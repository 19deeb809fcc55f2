import { FIELD_LEVELS, FIELDS, type Field, type Levels, type MatchModel, type MU } from './model.ts';

/**
 * Unsupervised estimation of the Fellegi–Sunter parameters by expectation–maximisation over the
 * agreement levels of candidate pairs (no labels): a two-class mixture where every field is independent
 * given the class. Starts from `start` (reasoned values) and returns the fitted model.
 */
export function estimateModel(pairs: Levels[], start: MatchModel, iterations = 100): MatchModel {
  // Identical agreement patterns are pooled: a batch has far fewer patterns than pairs.
  const patterns = new Map<string, { levels: Levels; count: number }>();
  for (const levels of pairs) {
    const key = FIELDS.map((f) => levels[f]).join('|');
    const entry = patterns.get(key);
    if (entry) entry.count++;
    else patterns.set(key, { levels, count: 1 });
  }
  let model = start;
  for (let it = 0; it < iterations; it++) {
    const next = maximise([...patterns.values()], model);
    const moved = Math.abs(next.prior - model.prior);
    model = next;
    if (moved < 1e-7) break;
  }
  return model;
}

function posterior(model: MatchModel, levels: Levels): number {
  let logOdds = Math.log2(model.prior / (1 - model.prior));
  for (const f of FIELDS) {
    const level = levels[f];
    if (level === 'missing') continue;
    const mu = (model.fields[f] as Record<string, MU>)[level] as MU;
    logOdds += Math.log2(mu.m / mu.u);
  }
  return 1 / (1 + 2 ** -logOdds);
}

/** One E step (posterior per pattern) and M step (re-estimated m, u, prior), with add-half smoothing. */
function maximise(patterns: Array<{ levels: Levels; count: number }>, model: MatchModel): MatchModel {
  const mCount: Record<string, Record<string, number>> = {};
  const uCount: Record<string, Record<string, number>> = {};
  for (const f of FIELDS) {
    mCount[f] = Object.fromEntries(FIELD_LEVELS[f].map((l) => [l, 0.5]));
    uCount[f] = Object.fromEntries(FIELD_LEVELS[f].map((l) => [l, 0.5]));
  }
  let matches = 0;
  let total = 0;
  for (const { levels, count } of patterns) {
    const g = posterior(model, levels) * count;
    matches += g;
    total += count;
    for (const f of FIELDS) {
      const level = levels[f];
      if (level === 'missing') continue;
      (mCount[f] as Record<string, number>)[level] = ((mCount[f] as Record<string, number>)[level] ?? 0) + g;
      (uCount[f] as Record<string, number>)[level] =
        ((uCount[f] as Record<string, number>)[level] ?? 0) + count - g;
    }
  }
  const fields = {} as Record<Field, Record<string, MU>>;
  for (const f of FIELDS) {
    const ms = mCount[f] as Record<string, number>;
    const us = uCount[f] as Record<string, number>;
    const mSum = Object.values(ms).reduce((a, b) => a + b, 0);
    const uSum = Object.values(us).reduce((a, b) => a + b, 0);
    fields[f] = Object.fromEntries(
      FIELD_LEVELS[f].map((l) => [l, { m: (ms[l] as number) / mSum, u: (us[l] as number) / uSum }]),
    );
  }
  const prior = Math.min(0.999, Math.max(0.001, matches / Math.max(1, total)));
  return { prior, fields: fields as MatchModel['fields'] };
}
