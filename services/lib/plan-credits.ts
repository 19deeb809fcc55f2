/**
 * Credits per billing cycle of each plan: configuration (`BILLING_PLAN_CREDITS`), not code, so tests and
 * benchmarks can give the default plan plenty. Lives in services/lib because the pipeline's meter, which
 * must not import gateway/, opens accounts it has never seen on the default plan's credits;
 * gateway/plans.ts reads it to expose `credits` per plan.
 */

/** The plan every account starts on. */
export const DEFAULT_PLAN_ID = 'payg';

export const DEFAULT_PLAN_CREDITS: Readonly<Record<string, number>> = {
  payg: 250,
  starter: 2500,
  professional: 5000,
  scale: 15000,
  enterprise: 100000,
};

/**
 * `name=credits,name=credits`: names are lower-case plan ids, credits whole numbers ≥ 0. Throws one error
 * naming every bad entry. Only the plans given are returned; `planCredits` fills in the defaults.
 */
export function parsePlanCredits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const problems: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9_]*)\s*=\s*(\d+)$/.exec(entry);
    if (!m?.[1] || m[2] === undefined) {
      problems.push(`"${entry}" is not name=credits`);
      continue;
    }
    const credits = Number(m[2]);
    if (!Number.isSafeInteger(credits)) problems.push(`"${entry}": credits too large`);
    else if (m[1] in out) problems.push(`"${m[1]}" given twice`);
    else out[m[1]] = credits;
  }
  if (problems.length) throw new Error(`BILLING_PLAN_CREDITS: ${problems.join('; ')}`);
  return out;
}

/** The defaults overridden by `BILLING_PLAN_CREDITS` (e.g. `payg=1000000` changes only payg). */
export function planCredits(env: Record<string, string | undefined> = process.env): Record<string, number> {
  return { ...DEFAULT_PLAN_CREDITS, ...parsePlanCredits(env.BILLING_PLAN_CREDITS ?? '') };
}
