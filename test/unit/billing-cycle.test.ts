import { describe, expect, it } from 'vitest';
import { dueCycle } from '../../gateway/billing/cycle.ts';
import { BillingConfig } from '../../gateway/config.ts';
import { billingPlans, compareTiers } from '../../gateway/plans.ts';

describe('dueCycle', () => {
  const state = { cycle_end: '2026-01-31T10:00:00.000Z' };

  it('is null until the cycle ends', () => {
    expect(dueCycle(state, new Date('2026-01-31T09:59:59.999Z'))).toBeNull();
  });

  it('starts the next cycle at the end of the last, a calendar month long (Jan 31 → Feb 28)', () => {
    expect(dueCycle(state, new Date('2026-01-31T10:00:00.000Z'))).toEqual({
      cycleStart: '2026-01-31T10:00:00.000Z',
      cycleEnd: '2026-02-28T10:00:00.000Z',
    });
  });

  it('skips to the cycle that holds now after idle months (one reset, not one per month)', () => {
    expect(dueCycle(state, new Date('2026-04-15T00:00:00.000Z'))).toEqual({
      cycleStart: '2026-03-28T10:00:00.000Z',
      cycleEnd: '2026-04-28T10:00:00.000Z',
    });
  });
});

describe('plans', () => {
  it('orders tiers and carries configured credits and prices', () => {
    expect(compareTiers('professional', 'starter')).toBeGreaterThan(0);
    expect(compareTiers('payg', 'enterprise')).toBeLessThan(0);
    const plans = billingPlans({ payg: 7, starter: 70 }, { starter: 1234 });
    expect(plans.starter).toMatchObject({ credits: 70, priceCents: 1234, requestsPerMinute: 60 });
    expect(plans.professional).toMatchObject({ credits: 0, priceCents: 49_900 });
  });
});

describe('BillingConfig', () => {
  it('defaults to stripe-mock settings and refuses bad prices, keys and secrets at start-up', () => {
    const ok = BillingConfig.parse({ BILLING_PLAN_PRICES: 'starter=100' });
    expect(ok.BILLING_PLAN_PRICES).toMatchObject({ starter: 100, professional: 49_900, payg: 0 });
    expect(ok.STRIPE_SECRET_KEY).toMatch(/^sk_test_/);
    const bad = BillingConfig.safeParse({
      BILLING_PLAN_PRICES: 'gold=5',
      STRIPE_SECRET_KEY: 'pk_test_1',
      STRIPE_WEBHOOK_SECRET: 'nope',
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path[0]);
    expect(paths).toEqual(['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'BILLING_PLAN_PRICES']);
  });
});
