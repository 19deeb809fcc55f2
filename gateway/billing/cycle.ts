import { addUtcMonth, type CreditState } from '../../services/lib/credit-ledger.ts';

/**
 * Billing cycles are calendar months from the account's cycle start (the ledger's `addUtcMonth`: Jan 31 →
 * Feb 28). A cycle rolls when `now` reaches its end; an account idle for several cycles rolls straight to
 * the cycle that holds `now` (credits are reset once, not once per missed cycle).
 */
export interface NextCycle {
  cycleStart: string;
  cycleEnd: string;
}

/** The cycle that holds `now` when the state's cycle has ended by then, else null. */
export function dueCycle(state: Pick<CreditState, 'cycle_end'>, now: Date): NextCycle | null {
  let start = new Date(state.cycle_end);
  if (Number.isNaN(start.getTime()) || now < start) return null;
  let end = addUtcMonth(start);
  while (end <= now) {
    start = end;
    end = addUtcMonth(start);
  }
  return { cycleStart: start.toISOString(), cycleEnd: end.toISOString() };
}

/** The ledger event id of a cycle: the same from the lazy roll, the job and invoice.paid, so applied once. */
export function cycleEventId(accountId: string, cycleStart: string): string {
  return `cycle:${accountId}:${cycleStart}`;
}
