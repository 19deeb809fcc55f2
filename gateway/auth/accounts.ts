import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { PlanId } from '../plans.ts';

export interface User {
  user_id: string;
  account_id: string;
  email: string;
  company: string;
  plan_id: PlanId;
  password_hash: string;
  created_at: string;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/**
 * Accounts live in Redis (AOF on): a hash per user, a unique index from email to user id and one from
 * account id to user id (billing's Stripe events name accounts). One user per account: the user hash's
 * plan_id is the account's plan, changed only through `changePlan`.
 */
export class AccountStore {
  /** Users read for authentication, each kept `recentMs`; none when 0. */
  private readonly recent: LRUCache<string, User> | null;

  /**
   * `recentMs` bounds how stale `recentById` may be: a user deleted or changed through another gateway
   * instance is seen within that window; `delete` through this store is seen at once.
   */
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
    recentMs = 0,
  ) {
    this.recent = recentMs > 0 ? new LRUCache({ max: 10_000, ttl: recentMs }) : null;
  }

  /** Returns null when the email is taken. The email index is claimed atomically with SET NX. */
  async create(email: string, company: string, passwordHash: string): Promise<User | null> {
    const user: User = {
      user_id: newId('usr'),
      account_id: newId('acc'),
      email,
      company,
      plan_id: 'payg',
      password_hash: passwordHash,
      created_at: new Date().toISOString(),
    };
    const claimed = await this.redis.set(this.key('email', email), user.user_id, 'NX');
    if (claimed !== 'OK') return null;
    await this.redis
      .multi()
      .hset(this.key('user', user.user_id), { ...user })
      .set(this.key('account-user', user.account_id), user.user_id)
      .exec();
    return user;
  }

  async byEmail(email: string): Promise<User | null> {
    const userId = await this.redis.get(this.key('email', email));
    return userId ? this.byId(userId) : null;
  }

  async byId(userId: string): Promise<User | null> {
    const fields = await this.redis.hgetall(this.key('user', userId));
    return fields.user_id ? (fields as unknown as User) : null;
  }

  /**
   * The user as read from Redis at most `recentMs` ago: every authenticated request looks its user up,
   * and one client's requests arrive in bursts.
   */
  async recentById(userId: string): Promise<User | null> {
    const known = this.recent?.get(userId);
    if (known) return known;
    const user = await this.byId(userId);
    if (user) this.recent?.set(userId, user);
    return user;
  }

  async byAccount(accountId: string): Promise<User | null> {
    const userId = await this.redis.get(this.key('account-user', accountId));
    return userId ? this.byId(userId) : null;
  }

  /**
   * Moves the account to `planId`. The user's entry in this instance's recent cache is dropped, so rate
   * limits and plan checks here see the new plan on the next request (other instances within `recentMs`).
   * Returns false when the account has no user.
   */
  async changePlan(accountId: string, planId: PlanId): Promise<boolean> {
    const userId = await this.redis.get(this.key('account-user', accountId));
    if (!userId) return false;
    // HSET only if the user still exists: a deleted user must not come back as a hash with one field.
    const changed = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'plan_id', ARGV[1]) return 1 end return 0",
      1,
      this.key('user', userId),
      planId,
    );
    this.recent?.delete(userId);
    return changed === 1;
  }

  async delete(userId: string): Promise<void> {
    this.recent?.delete(userId);
    const user = await this.byId(userId);
    if (!user) return;
    await this.redis.del(
      this.key('user', userId),
      this.key('email', user.email),
      this.key('account-user', user.account_id),
    );
    // A request that read the user while it was being deleted must not leave it cached.
    this.recent?.delete(userId);
  }
}
