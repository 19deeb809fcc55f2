import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { planCredits } from './plan-credits.ts';

/** The repo root: services/lib/config.ts is two folders down. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * `.stack/env` is written by `npm run stack -- up`: KEY=value lines. Real environment variables win,
 * so production and CI can override any of them.
 */
export function readStackEnv(path = join(REPO_ROOT, '.stack', 'env')): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1));
const url = z.url();
const int = (def: number) => z.coerce.number().int().nonnegative().default(def);

/** Settings every service shares. A service with more settings extends it: BaseConfig.extend({...}). */
export const BaseConfig = z.object({
  KAFKA_BROKERS: csv,
  SCHEMA_REGISTRY_URL: url,
  CLICKHOUSE_URL: url,
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  STRIPE_API_BASE: url.optional(),
  PROMETHEUS_URL: url.optional(),
  /** Prefix for topic names, consumer groups and the ClickHouse database: isolates test runs. */
  LEEDRUSH_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]*$/, 'only a-z, 0-9 and _')
    .default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'only a-z, 0-9 and _')
    .default('leedrush'),
  /** Port of a service's /health and /metrics server; 0 picks a free one. */
  METRICS_PORT: int(0),
  RUNTIME_BATCH_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  RUNTIME_MAX_RETRIES: int(5),
  RUNTIME_RETRY_BASE_MS: int(200),
  RUNTIME_STALL_MS: int(60_000),
  /**
   * Consumer group session: how long a SIGKILLed instance holds its partitions before the group gives them
   * to the others (or to its own restart). The broker refuses less than its group.min.session.timeout.ms (6 s).
   */
  RUNTIME_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  /**
   * Credits per billing cycle by plan, `payg=250,starter=2500,...` (plan-credits.ts); plans not named keep
   * their default. The meter opens unseen accounts on payg's.
   */
  BILLING_PLAN_CREDITS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return planCredits({ BILLING_PLAN_CREDITS: text });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof BaseConfig>;
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Reads and validates every setting at once, so one start-up message names every problem. */
export function loadConfig<S extends ObjectSchema = typeof BaseConfig>(
  schema: S = BaseConfig as unknown as S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const merged = { ...readStackEnv(), ...definedOnly(env) };
  const parsed = schema.safeParse(merged);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** For a service's main(): print the problems on one line and exit non-zero. */
export function loadConfigOrExit<S extends ObjectSchema = typeof BaseConfig>(
  schema: S = BaseConfig as unknown as S,
): z.infer<S> {
  try {
    return loadConfig(schema);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`leedrush: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
