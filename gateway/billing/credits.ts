import type { WebhookEvent } from '../../schemas/generated.ts';
import type {
  ApplyMovement,
  CreditLedger,
  CreditMovement,
  CreditState,
} from '../../services/lib/credit-ledger.ts';
import { TOPICS } from '../../services/lib/names.ts';
import type { RecordPublisher } from '../../services/lib/publisher.ts';
import type { AccountStore } from '../auth/accounts.ts';
import { isPlanId } from '../plans.ts';
import type { BillingStore } from './store.ts';

/**
 * The gateway's side of the credit ledger: every movement it applies is published to usage.events (the
 * ClickHouse audit of balances), a plan change reaches the account store at once (rate limits and plan
 * checks), and the account's cycle end is indexed for the periodic cycle job.
 *
 * Paused batches need no call from here: the pipeline's meter re-admits an account's parked leads once
 * its balance is > 0 (services/lib/credit-ledger.ts).
 *
 * A movement is held in Redis until Kafka acknowledged it: if publishing fails after the ledger moved
 * (a retry would not apply it again), `publishHeld` (the cycle job) sends it later. usage_events keys
 * rows by event id, so a movement sent twice is counted once.
 */
export class BillingCredits {
  constructor(
    private readonly ledger: CreditLedger,
    private readonly publisher: RecordPublisher,
    private readonly accounts: AccountStore,
    private readonly store: BillingStore,
  ) {}

  /** The account's credit state, opened on the default plan if never seen. */
  async ensure(accountId: string, now: Date): Promise<CreditState> {
    const { state, movement } = await this.ledger.ensure(accountId, now);
    await this.after(state, movement ? [movement] : []);
    return state;
  }

  /** One idempotent movement; `applied` is false when its event id was applied before. */
  async apply(accountId: string, m: ApplyMovement): Promise<{ applied: boolean; state: CreditState }> {
    const r = await this.ledger.apply(accountId, m);
    await this.after(
      r.state,
      [r.opened, r.movement].filter((x): x is CreditMovement => x !== null),
    );
    if (m.plan && isPlanId(m.plan.planId)) await this.accounts.changePlan(accountId, m.plan.planId);
    return { applied: r.applied, state: r.state };
  }

  /** Publishes webhook events (subscription.upgraded, topup.completed) to webhooks.outbox; ids make them once. */
  async publishEvents(events: WebhookEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.publisher.publish(TOPICS.webhooksOutbox, 'WebhookEvent', (e) => e.account_id, events);
  }

  private async after(state: CreditState, movements: CreditMovement[]): Promise<void> {
    await this.store.indexCycleEnd(state.account_id, state.cycle_end);
    if (movements.length === 0) return;
    const held = await this.store.holdMovements(movements);
    await this.publisher.publish(TOPICS.usage, 'UsageEvent', state.account_id, movements);
    await this.store.releaseMovements(held);
  }

  /** Sends the movements a failed publish left held; returns how many. */
  async publishHeld(limit = 500): Promise<number> {
    const { held, movements } = await this.store.heldMovements(limit);
    if (held.length === 0) return 0;
    await this.publisher.publish(TOPICS.usage, 'UsageEvent', (m) => m.account_id, movements);
    await this.store.releaseMovements(held);
    return held.length;
  }
}
