import { describe, expect, it } from 'vitest';
import { addUtcMonth } from '../../services/lib/credit-ledger.ts';
import { DEFAULT_PLAN_CREDITS, parsePlanCredits, planCredits } from '../../services/lib/plan-credits.ts';

describe('plan credits', () => {
  it('parses name=credits pairs and overrides only the plans given', () => {
    expect(parsePlanCredits(' payg=10 , scale=0')).toEqual({ payg: 10, scale: 0 });
    expect(planCredits({ BILLING_PLAN_CREDITS: 'payg=1000000' })).toEqual({
      ...DEFAULT_PLAN_CREDITS,
      payg: 1_000_000,
    });
    expect(planCredits({})).toEqual({
      payg: 250,
      starter: 2500,
      professional: 5000,
      scale: 15000,
      enterprise: 100000,
    });
  });

  it('names every bad entry in one error', () => {
    expect(() => parsePlanCredits('payg=-1,starter=x,payg=3,payg=4,Scale=2')).toThrow(
      /"payg=-1" is not name=credits; "starter=x" is not name=credits; "payg" given twice; "Scale=2" is not name=credits/,
    );
  });
});

describe('cycle length', () => {
  it('adds one calendar month in UTC, clamped to the last day', () => {
    expect(addUtcMonth(new Date('2026-01-31T10:00:00Z')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addUtcMonth(new Date('2028-01-31T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(addUtcMonth(new Date('2026-12-15T23:59:59Z')).toISOString()).toBe('2027-01-15T23:59:59.000Z');
  });
});
