import type { Redis } from 'ioredis';

/**
 * Failed-login throttling shared by every gateway instance, per email and per client address. An
 * attempt is counted before its password is checked (one atomic call: a burst of parallel guesses
 * cannot all slip in under the limit), and given back when it succeeds. A blocked attempt counts
 * nothing. The counters live for one window from the first attempt counted (a fixed window).
 * A success clears the email's counter but only gives back its own attempt on the address's: an
 * attacker with one valid account cannot reset the address's budget by logging into it.
 */
const SCRIPT = `
for i = 1, 2 do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[i]) then
    -- Whole seconds rounded up: TTL rounds to the nearest, and a client waiting that long could be early.
    return {0, math.max(math.ceil(redis.call('PTTL', KEYS[i]) / 1000), 1), i}
  end
end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[3], 'NX')
end
return {1, 0, 0}
`;

/** A success: the email starts afresh, the address gets its attempt back (never a key without expiry). */
const SUCCEEDED = `
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
`;

export type LoginAttempt =
  | { allowed: true; succeeded(): Promise<void> }
  | { allowed: false; retryAfterSeconds: number; by: 'email' | 'address' };

type WithScript = {
  leedrushLoginAttempt(...args: (string | number)[]): Promise<[number, number, number]>;
  leedrushLoginSucceeded(emailKey: string, addressKey: string): Promise<number>;
};

export class LoginThrottle {
  readonly #redis: Redis & WithScript;

  constructor(
    redis: Redis,
    private readonly key: (...parts: string[]) => string,
    private readonly limits: { perEmail: number; perAddress: number; windowS: number },
  ) {
    redis.defineCommand('leedrushLoginAttempt', { numberOfKeys: 2, lua: SCRIPT });
    redis.defineCommand('leedrushLoginSucceeded', { numberOfKeys: 2, lua: SUCCEEDED });
    this.#redis = redis as Redis & WithScript;
  }

  async attempt(email: string, address: string): Promise<LoginAttempt> {
    const emailKey = this.key('login-failures', email);
    const addressKey = this.key('login-failures-ip', address);
    const { perEmail, perAddress, windowS } = this.limits;
    const [allowed, ttl, by] = await this.#redis.leedrushLoginAttempt(
      emailKey,
      addressKey,
      perEmail,
      perAddress,
      windowS,
    );
    if (allowed !== 1) return { allowed: false, retryAfterSeconds: ttl, by: by === 1 ? 'email' : 'address' };
    return {
      allowed: true,
      succeeded: async () => {
        await this.#redis.leedrushLoginSucceeded(emailKey, addressKey);
      },
    };
  }
}
