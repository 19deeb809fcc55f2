import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { CircuitBreaker } from './breaker.ts';
import type { CacheLevel, CallLog } from './call-log.ts';
import { type RateLimit, type RateLimiter, sleep } from './rate-limit.ts';
import type { ProviderName } from './types.ts';

/** How one provider is called: limits, costs and retry policy. */
export interface ProviderPolicy {
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  rateLimit: RateLimit;
  /** Longest a call may wait for a rate-limit token before it gives up. */
  maxQueueMs: number;
  /** USD per billed call, by endpoint name; `default` covers the rest. */
  cost: Record<string, number>;
  breaker: { failureThreshold: number; cooldownMs: number };
}

export interface ProviderRequest {
  endpoint: string;
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** JSON object or URL-encoded form. */
  body?: { json: unknown } | { form: Record<string, string | string[]> };
  /** The provider bills this call (a token request, for instance, is free). */
  billed?: boolean;
  cacheLevel?: CacheLevel;
}

/** What a request spent: HTTP attempts made and USD billed, retries included. */
export interface Spent {
  calls: number;
  cost_usd: number;
}

export type ProviderResponse = Spent &
  (
    | { ok: true; status: number; body: unknown; headers: IncomingHttpHeaders }
    | { ok: false; reason: FailureReason; status: number; detail: string }
  );

type Attempt =
  | { ok: true; status: number; body: unknown; headers: IncomingHttpHeaders }
  | { ok: false; reason: FailureReason; status: number; detail: string };

/** Why a call produced no usable response. */
export type FailureReason =
  | 'circuit_open'
  | 'rate_limited'
  | 'throttled'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'auth'
  | 'bad_request';

/**
 * The resilient HTTP layer every adapter goes through: a timeout per attempt, retries with jittered
 * exponential backoff on 429/5xx/timeouts that honour Retry-After, one circuit breaker per provider, the
 * shared Redis token bucket, and a record of every attempt in the call log with its cost.
 */
export class ProviderHttp {
  readonly breaker: CircuitBreaker;
  readonly #random: () => number;

  constructor(
    readonly provider: ProviderName,
    readonly policy: ProviderPolicy,
    private readonly limiter: RateLimiter,
    private readonly log: CallLog,
    random: () => number = Math.random,
  ) {
    this.breaker = new CircuitBreaker(policy.breaker);
    this.#random = random;
  }

  costOf(endpoint: string): number {
    return this.policy.cost[endpoint] ?? this.policy.cost.default ?? 0;
  }

  async request(req: ProviderRequest): Promise<ProviderResponse> {
    if (!this.breaker.tryAcquire()) {
      const detail = `${this.provider} circuit is open`;
      return { ok: false, reason: 'circuit_open', status: 0, detail, calls: 0, cost_usd: 0 };
    }
    let result: ProviderResponse;
    try {
      result = await this.#withRetries(req);
    } catch (err) {
      // The shared limiter's Redis is down: not the provider's health, so the probe slot is handed back.
      this.breaker.release();
      throw err;
    }
    // Only outages count against the breaker: a 4xx is the caller's problem, not the provider's health.
    if (result.ok || result.reason === 'bad_request') this.breaker.onSuccess();
    else this.breaker.onFailure();
    return result;
  }

  async #withRetries(req: ProviderRequest): Promise<ProviderResponse> {
    const spent: Spent = { calls: 0, cost_usd: 0 };
    let last: Attempt = { ok: false, reason: 'network', status: 0, detail: 'not attempted' };
    for (let attempt = 0; attempt <= this.policy.maxRetries; attempt++) {
      // Without the shared limiter we cannot know the cluster stays under the provider's limit: no call.
      // Its error is thrown, not turned into a failed lookup: the runtime retries the lead once Redis is
      // back, so an outage of ours never leaves a lead with fewer fields than a quiet run gives it.
      const token = await this.limiter.take(this.provider, this.policy.rateLimit, this.policy.maxQueueMs);
      if (!token.ok) {
        last = {
          ok: false,
          reason: 'rate_limited',
          status: 0,
          detail: `no ${this.provider} token within budget`,
        };
        break;
      }
      const { response, retryAfterMs, cost } = await this.#attempt(req);
      spent.calls++;
      spent.cost_usd += cost;
      last = response;
      if (response.ok || !isTransient(response.reason) || attempt === this.policy.maxRetries) break;
      await sleep(retryAfterMs ?? this.#backoff(attempt));
    }
    return { ...last, ...spent };
  }

  /** Full jitter: a random delay in [0, min(max, base·2^attempt)] spreads retries of many instances. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.policy.retryMaxMs, this.policy.retryBaseMs * 2 ** attempt);
    return Math.round(this.#random() * ceiling);
  }

  async #attempt(
    req: ProviderRequest,
  ): Promise<{ response: Attempt; retryAfterMs: number | null; cost: number }> {
    const started = Date.now();
    const t0 = performance.now();
    let cost = 0;
    const record = (status: number, error: string) => {
      cost = status >= 200 && status < 300 && req.billed !== false ? this.costOf(req.endpoint) : 0;
      this.log.record({
        provider: this.provider,
        endpoint: req.endpoint,
        started_at: started,
        latency_ms: performance.now() - t0,
        status,
        cost_usd: cost,
        cache_level: req.cacheLevel ?? 'provider',
        error,
      });
    };
    // undici's request rather than fetch: measured against the sandbox, fetch spent about twice the CPU
    // per call (WHATWG streams and Headers), and enrich makes one to three calls per lead.
    // A timer cleared once the answer is in, not AbortSignal.timeout: that one still fires for every
    // call, timeoutMs later, and builds a DOMException with its stack each time.
    const abort = new AbortController();
    const { signal } = abort;
    const timer = setTimeout(() => abort.abort(), this.policy.timeoutMs);
    let res: Awaited<ReturnType<typeof request>>;
    let body: unknown;
    try {
      res = await request(req.url, {
        method: req.method,
        headers: { accept: 'application/json', ...encodeHeaders(req.body), ...req.headers },
        body: encodeBody(req.body),
        signal,
      });
      const text = await res.body.text();
      body = text ? parseJson(text) : null;
    } catch (err) {
      const timedOut = signal.aborted;
      const reason: FailureReason = timedOut ? 'timeout' : 'network';
      const detail = timedOut ? `no answer within ${this.policy.timeoutMs} ms` : String(err);
      record(0, reason);
      return { response: { ok: false, reason, status: 0, detail }, retryAfterMs: null, cost };
    } finally {
      clearTimeout(timer);
    }
    const status = res.statusCode;
    const failure = classify(status);
    record(status, failure ?? '');
    if (!failure) {
      return {
        response: { ok: true, status, body, headers: res.headers },
        retryAfterMs: null,
        cost,
      };
    }
    return {
      response: { ok: false, reason: failure, status, detail: describe(body, status) },
      retryAfterMs: parseRetryAfter(
        headerValue(res.headers['retry-after']),
        Date.now(),
        this.policy.retryMaxMs,
      ),
      cost,
    };
  }
}

/** 404 is a miss, not a failure: providers answer it for people and companies they do not know. */
function classify(status: number): FailureReason | null {
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server_error';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 400 && status !== 404) return 'bad_request';
  return null;
}

function isTransient(reason: FailureReason): boolean {
  return reason === 'throttled' || reason === 'server_error' || reason === 'timeout' || reason === 'network';
}

/**
 * Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). The result is capped so a
 * hostile or broken header cannot park a worker for hours; null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number, capMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(capMs, Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(capMs, Math.max(0, at - nowMs));
}

const headerValue = (v: string | string[] | undefined): string | null =>
  v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;

function encodeHeaders(body: ProviderRequest['body']): Record<string, string> {
  if (!body) return {};
  return 'json' in body
    ? { 'content-type': 'application/json' }
    : { 'content-type': 'application/x-www-form-urlencoded' };
}

function encodeBody(body: ProviderRequest['body']): string | undefined {
  if (!body) return undefined;
  if ('json' in body) return JSON.stringify(body.json);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body.form)) {
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
  }
  return params.toString();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text.slice(0, 500) };
  }
}

function describe(body: unknown, status: number): string {
  const text = JSON.stringify(body ?? null);
  return `HTTP ${status}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}
