import { DEFAULT_PLAN_ID } from '../services/lib/plan-credits.ts';

/** Plan limits are fixed by the public contract (API.md); credits and prices per cycle are configuration. */
export interface PlanLimits {
  id: PlanId;
  name: string;
  /** null = unlimited */
  requestsPerMinute: number | null;
  concurrentBatches: number | null;
  maxRowsPerBatch: number | null;
}

/** A plan as billing sells it: its limits, its credits per cycle and its net price per cycle. */
export interface Plan extends PlanLimits {
  credits: number;
  /** Net price of one cycle in the smallest currency unit; 0 = not sold by subscription (payg). */
  priceCents: number;
}

/** Cheapest first: the order decides what is an upgrade (immediate) and what a downgrade (at cycle end). */
export const PLAN_IDS = ['payg', 'starter', 'professional', 'scale', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

/** The plan every account opens on (services/lib/plan-credits.ts: the meter opens accounts too). */
export const DEFAULT_PLAN: PlanId = DEFAULT_PLAN_ID as PlanId;

export const PLANS: Record<PlanId, PlanLimits> = {
  payg: {
    id: 'payg',
    name: 'Pay as you go',
    requestsPerMinute: 30,
    concurrentBatches: 3,
    maxRowsPerBatch: 10_000,
  },
  starter: {
    id: 'starter',
    name: 'Starter',
    requestsPerMinute: 60,
    concurrentBatches: 5,
    maxRowsPerBatch: 25_000,
  },
  professional: {
    id: 'professional',
    name: 'Professional',
    requestsPerMinute: 90,
    concurrentBatches: 8,
    maxRowsPerBatch: 50_000,
  },
  scale: {
    id: 'scale',
    name: 'Scale',
    requestsPerMinute: 120,
    concurrentBatches: 10,
    maxRowsPerBatch: 100_000,
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    requestsPerMinute: null,
    concurrentBatches: null,
    maxRowsPerBatch: null,
  },
};

/** Net prices per cycle in cents (BILLING_PLAN_PRICES overrides them); payg is bought by top-ups only. */
export const DEFAULT_PLAN_PRICES: Readonly<Record<PlanId, number>> = {
  payg: 0,
  starter: 9_900,
  professional: 49_900,
  scale: 99_900,
  enterprise: 499_900,
};

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}

/** > 0 when `to` is a higher tier than `from`. */
export function compareTiers(to: PlanId, from: PlanId): number {
  return PLAN_IDS.indexOf(to) - PLAN_IDS.indexOf(from);
}

/** Every plan with its configured credits and price (config: BILLING_PLAN_CREDITS, BILLING_PLAN_PRICES). */
export function billingPlans(
  credits: Readonly<Record<string, number>>,
  prices: Readonly<Record<string, number>>,
): Record<PlanId, Plan> {
  return Object.fromEntries(
    PLAN_IDS.map((id) => [
      id,
      { ...PLANS[id], credits: credits[id] ?? 0, priceCents: prices[id] ?? DEFAULT_PLAN_PRICES[id] },
    ]),
  ) as Record<PlanId, Plan>;
}
