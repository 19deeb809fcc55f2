import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
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

/** Accounts live in Redis (AOF on): a hash per user and a unique index from email to user id. */
export class AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

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
    await this.redis.hset(this.key('user', user.user_id), { ...user });
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

  async delete(userId: string): Promise<void> {
    const user = await this.byId(userId);
    if (!user) return;
    await this.redis.del(this.key('user', userId), this.key('email', user.email));
  }
}
