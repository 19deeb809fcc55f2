import { randomBytes } from 'node:crypto';
import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { UsageEvent, WebhookEvent } from '../../schemas/generated.ts';
import type { BatchTracker } from '../lib/batch-tracker.ts';
import type { ChargeResult, CreditLedger, CreditMovement, CreditState } from '../lib/credit-ledger.ts';
import type { Logger } from './logger.ts';
import { type ParkedMessage, type ParkingLot, parkedMessage, READMIT_HEADER } from './parking.ts';
import type { PhaseContext } from './phase.ts';
import { errorMessage } from './retry.ts';

/**
 * The credit meter: an admission step the runtime runs on every consumed chunk before the phase, for a
 * service that opts in (`RunOptions.meter`; standardize, the first phase that reads leads.raw). One
 * credit per lead, at most once per lead id (credit-ledger.ts):
 *
 * 1. The chunk's leads are grouped by account and batch; each group is one ledger `charge` (≤ 1000 ids a
 *    Lua call). Charged leads go on to the phase. Leads that found the balance at 0 are parked
 *    (parking.ts) and the batch becomes `paused`. While an account has leads parked, its new leads queue
 *    behind them (parked without a charge), so re-admission keeps their order.
 * 2. The movements (usage.events) and the credits.low / credits.exhausted webhook events go into the
 *    same produce as the phase's output, before the offsets are committed; parking is durable before the
 *    produce. A crash before the commit redelivers the chunk: the ledger answers with the same movements
 *    and signals (same event ids), parking stores each lead once. Overshoot: none, the balance never
 *    goes below 0 (each credit is taken inside one atomic Lua call).
 * 3. Resume without a call from the gateway: every RESUME_POLL_MS the meter looks at the accounts with
 *    leads parked and, where the balance is > 0 again (a top-up, an upgrade, a new cycle: any ledger
 *    movement), takes the oldest (at most the balance's worth, under a per-account lease) and sends them
 *    back to the input topic as they were consumed (`leedrush-origin` keeps their identity). They pass
 *    this meter again and are charged then, once. When re-admitted leads of a batch are charged and none
 *    of its leads waits any more, the batch goes back to the status it had.
 */

/** The account, batch and lead one credit is charged for. */
export interface MeteredLead {
  accountId: string;
  batchId: string;
  leadId: string;
}

/** What a metered service declares: how to read the metered identity of an input (null: not metered). */
export interface MeterSpec<In> {
  identify(input: In, ctx: PhaseContext): MeteredLead | null;
}

export interface AdmissionItem<In> {
  msg: KafkaMessage;
  input: In;
  ctx: PhaseContext;
}

export interface AdmissionOutcome {
  /** Per item: true = on to the phase; false = parked. */
  admitted: boolean[];
  /** To produce with the phase's output (usage events, webhook events). */
  messages: TopicMessages[];
}

/** The runtime's view of an admission step. */
export interface Admission<In> {
  admit(items: readonly AdmissionItem<In>[], partition: number): Promise<AdmissionOutcome>;
}

const RESUME_POLL_MS = 1_000;
const LEASE_MS = 60_000;
/** Parked leads sent back per round: one produce each. */
const READMIT_CHUNK = 1_000;

export class BillingMetrics {
  readonly charged: Counter;
  readonly parked: Counter;
  readonly resumed: Counter;
  readonly accountsPaused: Gauge;
  readonly events: Counter<'event'>;

  constructor(registry: Registry) {
    this.charged = new Counter({
      name: 'leedrush_billing_credits_charged_total',
      help: 'Credits taken by the meter (one per lead, first charge only; redeliveries not counted)',
      registers: [registry],
    });
    this.parked = new Counter({
      name: 'leedrush_billing_leads_parked_total',
      help: 'Leads parked because their account had no credits (or had leads parked before them)',
      registers: [registry],
    });
    this.resumed = new Counter({
      name: 'leedrush_billing_leads_resumed_total',
      help: 'Parked leads sent back to the pipeline after credits returned',
      registers: [registry],
    });
    this.accountsPaused = new Gauge({
      name: 'leedrush_billing_accounts_paused',
      help: 'Accounts with leads parked (as of the last resume poll)',
      registers: [registry],
    });
    this.events = new Counter({
      name: 'leedrush_billing_webhook_events_total',
      help: 'credits.low and credits.exhausted events published (redeliveries included)',
      labelNames: ['event'],
      registers: [registry],
    });
  }
}

export interface CreditMeterDeps<In> {
  spec: MeterSpec<In>;
  ledger: CreditLedger;
  parking: ParkingLot;
  tracker: BatchTracker;
  metrics: BillingMetrics;
  log: Logger;
  topics: { input: string; usage: string; outbox: string };
  encodeUsage: (e: UsageEvent) => Buffer;
  encodeEvent: (e: WebhookEvent) => Buffer;
}

export class CreditMeter<In> implements Admission<In> {
  private readonly holder = randomBytes(8).toString('hex');

  constructor(private readonly d: CreditMeterDeps<In>) {}

  async admit(items: readonly AdmissionItem<In>[], partition: number): Promise<AdmissionOutcome> {
    const admitted = items.map(() => true);
    // account → batch → item indexes, in chunk order
    const groups = new Map<string, Map<string, number[]>>();
    const leads: (MeteredLead | null)[] = items.map((item, i) => {
      const lead = this.d.spec.identify(item.input, item.ctx);
      if (lead) {
        const batches = groups.get(lead.accountId) ?? new Map<string, number[]>();
        groups.set(lead.accountId, batches);
        batches.set(lead.batchId, [...(batches.get(lead.batchId) ?? []), i]);
      }
      return lead;
    });
    if (groups.size === 0) return { admitted, messages: [] };
    const queued = await this.d.parking.queued([...groups.keys()]);
    const usage: Message[] = [];
    const events: Message[] = [];
    await Promise.all(
      [...groups].map(async ([accountId, batches]) => {
        const toPark: { index: number; front: boolean }[] = [];
        const resumable = new Set<string>();
        for (const [batchId, indexes] of batches) {
          const readmitted = (i: number) => items[i]?.msg.headers?.[READMIT_HEADER] !== undefined;
          // While leads of the account wait, new ones queue behind them; re-admitted ones are charged.
          const toCharge = queued.has(accountId) ? indexes.filter(readmitted) : indexes;
          const charging = new Set(toCharge);
          for (const i of indexes) if (!charging.has(i)) toPark.push({ index: i, front: false });
          if (toCharge.length === 0) continue;
          const ids = toCharge.map((i) => (leads[i] as MeteredLead).leadId);
          const r = await this.d.ledger.charge(accountId, batchId, ids);
          this.d.metrics.charged.inc(r.charged);
          for (const m of [...(r.opened ? [r.opened] : []), ...r.movements]) usage.push(this.usageMessage(m));
          events.push(...this.signals(r));
          const over = new Set(r.over);
          for (const i of toCharge)
            if (over.has((leads[i] as MeteredLead).leadId)) toPark.push({ index: i, front: readmitted(i) });
            else if (readmitted(i)) resumable.add(batchId);
        }
        // A batch whose re-admitted leads are charged again runs on, once none of its leads waits.
        for (const batchId of resumable)
          if (toPark.some((p) => leads[p.index]?.batchId === batchId)) resumable.delete(batchId);
        const waiting = await this.d.parking.stillParked(accountId, [...resumable]);
        for (const batchId of resumable)
          if (!waiting.has(batchId) && (await this.d.tracker.resume(batchId, accountId)))
            this.d.log.info({ account: accountId, batch: batchId }, 'batch resumed');
        if (toPark.length === 0) return;
        toPark.sort((a, b) => a.index - b.index);
        const parked = (front: boolean): ParkedMessage[] =>
          toPark
            .filter((p) => p.front === front)
            .map(({ index }) => {
              const lead = leads[index] as MeteredLead;
              return parkedMessage(
                (items[index] as AdmissionItem<In>).msg,
                partition,
                lead.leadId,
                lead.batchId,
              );
            });
        await this.d.parking.park(accountId, parked(true), true);
        await this.d.parking.park(accountId, parked(false), false);
        for (const { index } of toPark) admitted[index] = false;
        this.d.metrics.parked.inc(toPark.length);
        const pausedBatches = new Set(toPark.map(({ index }) => (leads[index] as MeteredLead).batchId));
        for (const batchId of pausedBatches) await this.d.tracker.pause(batchId, accountId);
      }),
    );
    const messages: TopicMessages[] = [];
    if (usage.length) messages.push({ topic: this.d.topics.usage, messages: usage });
    if (events.length) messages.push({ topic: this.d.topics.outbox, messages: events });
    return { admitted, messages };
  }

  private usageMessage(m: CreditMovement): Message {
    return { key: m.account_id, value: this.d.encodeUsage(m) };
  }

  /** credits.low (once per cycle) and credits.exhausted (once per exhaustion), with deterministic ids. */
  private signals(r: ChargeResult): Message[] {
    const out: WebhookEvent[] = [];
    const s = r.state;
    if (r.low) {
      // The movement that crossed the threshold: the same one on a redelivery of the chunk.
      const crossed = r.movements.find((m) => m.balance_after * 10 < s.credits_total);
      out.push(
        creditEvent('credits.low', `credits.low:${s.account_id}:${s.cycle_start}`, s, {
          credits_remaining: crossed?.balance_after ?? s.balance,
          occurred_at: crossed?.occurred_at ?? Date.now(),
        }),
      );
    }
    if (r.exhausted) {
      const last = r.movements.find((m) => m.balance_after === 0);
      out.push(
        creditEvent('credits.exhausted', `credits.exhausted:${s.account_id}:${s.exhaustions}`, s, {
          credits_remaining: 0,
          occurred_at: last?.occurred_at ?? Date.now(),
        }),
      );
    }
    for (const e of out) this.d.metrics.events.inc({ event: e.event });
    return out.map((e) => ({ key: e.account_id, value: this.d.encodeEvent(e) }));
  }

  /**
   * Re-admits parked leads of accounts whose balance is > 0 again, every RESUME_POLL_MS, until stopped.
   * `send` produces to the input topic (acknowledged by the broker when it resolves).
   */
  startResuming(
    send: (topicMessages: TopicMessages[]) => Promise<void>,
    stopping: () => boolean,
  ): () => void {
    let timer: NodeJS.Timeout | undefined;
    let running = true;
    const tick = async () => {
      try {
        await this.resumeOnce(send, () => !running || stopping());
      } catch (err) {
        this.d.log.warn({ err: errorMessage(err) }, 'resume poll failed; retrying');
      }
      if (running) timer = setTimeout(tick, RESUME_POLL_MS);
    };
    timer = setTimeout(tick, RESUME_POLL_MS);
    return () => {
      running = false;
      clearTimeout(timer);
    };
  }

  async resumeOnce(
    send: (topicMessages: TopicMessages[]) => Promise<void>,
    stopping: () => boolean = () => false,
  ): Promise<void> {
    const accounts = await this.d.parking.accounts();
    this.d.metrics.accountsPaused.set(accounts.length);
    for (const accountId of accounts) {
      if (stopping()) return;
      const state = await this.d.ledger.state(accountId);
      if (!state || state.balance <= 0) continue;
      if (!(await this.d.parking.lease(accountId, this.holder, LEASE_MS))) continue;
      try {
        await this.readmit(state, send, stopping);
      } finally {
        await this.d.parking.release(accountId, this.holder);
      }
    }
  }

  private async readmit(
    state: CreditState,
    send: (topicMessages: TopicMessages[]) => Promise<void>,
    stopping: () => boolean,
  ): Promise<void> {
    const accountId = state.account_id;
    const sendBack = async (parked: ParkedMessage[]) => {
      if (parked.length === 0) return;
      await send([{ topic: this.d.topics.input, messages: parked.map((p) => p.message) }]);
      await this.d.parking.confirm(
        accountId,
        parked.map((p) => p.leadId),
      );
      this.d.metrics.resumed.inc(parked.length);
    };
    // Claimed by a holder that stopped before confirming: send them again (a duplicate is charged once).
    await sendBack(await this.d.parking.unconfirmed(accountId));
    let budget = state.balance;
    while (budget > 0 && !stopping()) {
      const messages = await this.d.parking.claim(accountId, Math.min(budget, READMIT_CHUNK));
      if (messages.length === 0) break;
      await sendBack(messages);
      budget -= messages.length;
      this.d.log.info({ account: accountId, leads: messages.length }, 'parked leads re-admitted');
    }
  }
}

function creditEvent(
  event: 'credits.low' | 'credits.exhausted',
  eventId: string,
  s: CreditState,
  at: { credits_remaining: number; occurred_at: number },
): WebhookEvent {
  return {
    event_id: eventId,
    account_id: s.account_id,
    event,
    batch_id: null,
    data_json: JSON.stringify({
      plan_id: s.plan_id,
      credits_total: s.credits_total,
      credits_remaining: at.credits_remaining,
      billing_cycle_start: s.cycle_start,
      billing_cycle_end: s.cycle_end,
    }),
    occurred_at: at.occurred_at,
  };
}
