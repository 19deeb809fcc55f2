/**
 * The Fellegi–Sunter model: for each compared field, the agreement levels a pair can fall in, each with
 * m = P(level | same person) and u = P(level | different people). Probabilities are conditioned on the
 * pair being a blocking candidate (that is the only population ever scored), and on both records
 * having the field: a missing value contributes weight 0.
 *
 * DEFAULT_MODEL started from the expectation–maximisation estimate (services/dedupe/estimate.ts, no labels
 * used) over the candidate pairs of the benchmark generator's TRAINING seed (`npm run bench:dedup --
 * --fit --seed 1`), rounded, and then every m and u kept within [0.0005, 0.99]: synthetic perturbations
 * are narrower than real data (EM found company "differ" impossible for a true duplicate, which one real
 * rebrand would contradict), so no single field may veto or force a match. The benchmark reports
 * quality on a different seed. services/dedupe/README.md gives the reasoning for each value.
 */
export const FIELD_LEVELS = {
  email: ['exact', 'local', 'differ'],
  /** Joint first+last: both exact; surname exact + nickname/typo (or the reverse); weaker agreement; one of the two only. */
  name: ['exact', 'strong', 'weak', 'last_only', 'first_only', 'differ'],
  company: ['exact', 'fuzzy', 'differ'],
  domain: ['exact', 'differ'],
  phone: ['exact', 'differ'],
  title: ['exact', 'similar', 'differ'],
  linkedin: ['exact', 'differ'],
  country: ['exact', 'differ'],
} as const;

export type Field = keyof typeof FIELD_LEVELS;
export type LevelOf<F extends Field> = (typeof FIELD_LEVELS)[F][number] | 'missing';
export type Levels = { [F in Field]: LevelOf<F> };
export const FIELDS = Object.keys(FIELD_LEVELS) as Field[];

export interface MU {
  m: number;
  u: number;
}

export interface MatchModel {
  /** P(match) for a blocking candidate pair before any field is looked at. */
  prior: number;
  fields: { [F in Field]: Record<(typeof FIELD_LEVELS)[F][number], MU> };
}

export const DEFAULT_MODEL: MatchModel = {
  prior: 0.5,
  fields: {
    email: { exact: { m: 0.67, u: 0.0005 }, local: { m: 0.06, u: 0.001 }, differ: { m: 0.27, u: 0.9985 } },
    name: {
      exact: { m: 0.68, u: 0.005 },
      strong: { m: 0.25, u: 0.01 },
      weak: { m: 0.03, u: 0.002 },
      last_only: { m: 0.01, u: 0.5 },
      first_only: { m: 0.012, u: 0.34 },
      differ: { m: 0.01, u: 0.14 },
    },
    company: { exact: { m: 0.9, u: 0.9 }, fuzzy: { m: 0.08, u: 0.03 }, differ: { m: 0.02, u: 0.07 } },
    domain: { exact: { m: 0.95, u: 0.9 }, differ: { m: 0.05, u: 0.1 } },
    phone: { exact: { m: 0.95, u: 0.001 }, differ: { m: 0.05, u: 0.999 } },
    title: { exact: { m: 0.9, u: 0.05 }, similar: { m: 0.05, u: 0.005 }, differ: { m: 0.05, u: 0.945 } },
    linkedin: { exact: { m: 0.99, u: 0.001 }, differ: { m: 0.01, u: 0.999 } },
    country: { exact: { m: 0.99, u: 0.95 }, differ: { m: 0.01, u: 0.05 } },
  },
};

/** log2(m/u) of one field's level; 0 when the field is missing on either side. */
export function levelWeight<F extends Field>(model: MatchModel, field: F, level: LevelOf<F>): number {
  if (level === 'missing') return 0;
  const mu = (model.fields[field] as Record<string, MU>)[level];
  if (!mu) throw new Error(`no m/u for ${field}.${level}`);
  return Math.log2(mu.m / mu.u);
}

export function totalWeight(model: MatchModel, levels: Levels): number {
  let w = 0;
  for (const f of FIELDS) w += levelWeight(model, f, levels[f] as LevelOf<typeof f>);
  return w;
}

/** Posterior match probability: logistic of the summed weight plus the prior's log2-odds. */
export function matchProbability(model: MatchModel, weight: number): number {
  const logOdds = weight + Math.log2(model.prior / (1 - model.prior));
  return 1 / (1 + 2 ** -logOdds);
}
