/**
 * Webhook endpoints in Redis, per account: `wh:ep:<id>` holds the endpoint as JSON (its secret
 * included: the dispatcher signs with it), `wh:acct:<account>` the ids of the account's endpoints.
 * Every read by id checks the account, so another tenant's id reads as missing.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface Endpoint {
  id: string;
  account_id: string;
  url: string;
  events: string[];
  secret: string;
  created_at: string;
}

export class EndpointStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  async create(accountId: string, url: string, events: string[]): Promise<Endpoint> {
    const endpoint: Endpoint = {
      id: `wh_${randomBytes(12).toString('hex')}`,
      account_id: accountId,
      url,
      events: [...new Set(events)],
      secret: `whsec_${randomBytes(32).toString('hex')}`,
      created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    await this.redis
      .multi()
      .set(this.key('wh', 'ep', endpoint.id), JSON.stringify(endpoint))
      .sadd(this.key('wh', 'acct', accountId), endpoint.id)
      .exec();
    return endpoint;
  }

  async get(accountId: string, id: string): Promise<Endpoint | null> {
    const raw = await this.redis.get(this.key('wh', 'ep', id));
    const endpoint = raw ? (JSON.parse(raw) as Endpoint) : null;
    return endpoint?.account_id === accountId ? endpoint : null;
  }

  /** The account's endpoints, oldest first. */
  async list(accountId: string): Promise<Endpoint[]> {
    const ids = await this.redis.smembers(this.key('wh', 'acct', accountId));
    if (!ids.length) return [];
    const raws = await this.redis.mget(...ids.map((id) => this.key('wh', 'ep', id)));
    return raws
      .flatMap((raw) => (raw ? [JSON.parse(raw) as Endpoint] : []))
      .filter((e) => e.account_id === accountId)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** False when the endpoint does not exist in this account. */
  async delete(accountId: string, id: string): Promise<boolean> {
    if (!(await this.get(accountId, id))) return false;
    await this.redis
      .multi()
      .del(this.key('wh', 'ep', id))
      .srem(this.key('wh', 'acct', accountId), id)
      .exec();
    return true;
  }
}
