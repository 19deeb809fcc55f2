/**
 * The delivery schedule, durable in Redis (AOF) so the Kafka offset of an outbox event can be committed
 * as soon as its jobs are recorded, and a retry 12 hours out survives restarts:
 *
 * - `wh:job:<endpoint>:<event_id>`: the job (event + attempts made so far), JSON;
 * - `wh:due`: sorted set of job ids scored by the time the next attempt is due (epoch ms);
 * - `wh:done:<endpoint>:<event_id>`: set once an attempt got a 2xx; no job is created or sent for it again.
 *
 * Claiming moves a due job's score forward by a lease, atomically, so two dispatcher instances never
 * send the same attempt, and a job whose dispatcher died mid-attempt is due again when the lease ends.
 */
import type { Redis } from 'ioredis';

export interface DeliveryJob {
  endpoint_id: string;
  account_id: string;
  event_id: string;
  event: string;
  batch_id: string | null;
  occurred_at: number;
  data_json: string;
  /** Attempts made so far. */
  attempts: number;
}

/** Done markers outlive any retry schedule (and the outbox's 7-day retention) by far. */
const DONE_TTL_S = 30 * 86_400;

const ENQUEUE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0`;

// Jobs are read by id: the job key is derived from the member, so KEYS cannot list them up front;
// the key prefix is passed instead, which holds on a single Redis node (not on a cluster).
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('GET', ARGV[4] .. id)
  if job then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, job)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`;

export class RetryQueue {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  private jobId = (j: Pick<DeliveryJob, 'endpoint_id' | 'event_id'>) => `${j.endpoint_id}:${j.event_id}`;
  private jobKey = (j: Pick<DeliveryJob, 'endpoint_id' | 'event_id'>) => this.key('wh', 'job', this.jobId(j));
  private doneKey = (j: Pick<DeliveryJob, 'endpoint_id' | 'event_id'>) =>
    this.key('wh', 'done', this.jobId(j));
  private dueKey = () => this.key('wh', 'due');

  /**
   * Records a job due at `dueAt`, unless it is already pending or was delivered: an outbox event
   * consumed twice yields one job.
   */
  async enqueue(job: DeliveryJob, dueAt: number): Promise<boolean> {
    const created = await this.redis.eval(
      ENQUEUE,
      3,
      this.jobKey(job),
      this.dueKey(),
      this.doneKey(job),
      JSON.stringify(job),
      String(dueAt),
      this.jobId(job),
    );
    return created === 1;
  }

  /** Up to `limit` jobs due at `now`, each leased until now + leaseMs. */
  async claim(now: number, leaseMs: number, limit: number): Promise<DeliveryJob[]> {
    const raws = (await this.redis.eval(
      CLAIM,
      1,
      this.dueKey(),
      String(now),
      String(now + leaseMs),
      String(limit),
      `${this.key('wh', 'job')}:`,
    )) as string[];
    return raws.map((raw) => JSON.parse(raw) as DeliveryJob);
  }

  isDelivered(job: DeliveryJob): Promise<boolean> {
    return this.redis.exists(this.doneKey(job)).then((n) => n === 1);
  }

  /** After a 2xx: the marker first, so a crash between the two steps cannot send the event again. */
  async delivered(job: DeliveryJob): Promise<void> {
    await this.redis.set(this.doneKey(job), '1', 'EX', DONE_TTL_S, 'NX');
    await this.finish(job);
  }

  /** The job with one more attempt counted, due again at `dueAt`. */
  async retryAt(job: DeliveryJob, dueAt: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.jobKey(job), JSON.stringify(job), 'XX')
      .zadd(this.dueKey(), 'XX', dueAt, this.jobId(job))
      .exec();
  }

  /** Removes the job: delivered, given up, or its endpoint is gone. */
  async finish(job: DeliveryJob): Promise<void> {
    await this.redis.multi().del(this.jobKey(job)).zrem(this.dueKey(), this.jobId(job)).exec();
  }

  pending(): Promise<number> {
    return this.redis.zcard(this.dueKey());
  }
}
