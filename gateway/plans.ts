/** Plan limits are fixed by the public contract (API.md); credits per cycle are configuration. */
export interface PlanLimits {
  id: PlanId;
  name: string;
  /** null = unlimited */
  requestsPerMinute: number | null;
  concurrentBatches: number | null;
  maxRowsPerBatch: number | null;
}

export const PLAN_IDS = ['payg', 'starter', 'professional', 'scale', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

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

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}
