import { createRoute, z } from '@hono/zod-openapi';
import { standardizeEmail } from '../../services/standardize/email.ts';
import { problem } from '../errors.ts';
import { errorResponses } from '../openapi.ts';
import { createRouter } from '../validation.ts';

const CacheLevel = z.object({
  hit_rate: z.number(),
  avg_latency_ms: z.number(),
  total_hits: z.number().int(),
  total_misses: z.number().int(),
});
const CacheStats = z
  .object({
    l1_cache: CacheLevel,
    l2_cache: CacheLevel,
    similarity_matches: z.object({ total: z.number().int(), threshold: z.number() }),
    cost_savings: z.object({ api_calls_saved: z.number().int(), estimated_savings_usd: z.number() }),
  })
  .openapi('CacheStats');

const PredictiveStats = z
  .object({
    patterns_detected: z.object({
      company_batches: z.number().int(),
      sequential_patterns: z.number().int(),
      domain_patterns: z.number().int(),
    }),
    predictions: z.object({
      total_generated: z.number().int(),
      pre_enriched: z.number().int(),
      success_rate: z.number(),
    }),
    performance: z.object({
      avg_prediction_accuracy: z.number(),
      zero_latency_requests: z.number().int(),
      throughput_increase: z.number(),
    }),
    background_queue: z.object({
      pending: z.number().int(),
      processing: z.number().int(),
      completed: z.number().int(),
    }),
  })
  .openapi('PredictiveStats');

const Agreement = z.object({ agreement_score: z.number(), sources: z.number().int() });
const MultiSource = z
  .object({
    lead: z.object({
      email: z.string(),
      name: z.string().nullable(),
      title: z.string().nullable(),
      company: z.string().nullable(),
      phone: z.string().nullable(),
      linkedin: z.string().nullable(),
    }),
    validation: z.object({ confidence_score: z.number(), data_quality: z.number(), coverage: z.number() }),
    sources: z.record(
      z.string(),
      z.object({ agreement: z.boolean(), confidence: z.number(), fields_provided: z.array(z.string()) }),
    ),
    consensus: z.record(z.string(), Agreement),
  })
  .openapi('MultiSourceValidation');

const cacheStatsRoute = createRoute({
  method: 'get',
  path: '/v1/cache/stats',
  tags: ['advanced'],
  security: [{ bearer: [] }],
  description:
    'Enrichment cache figures of the whole cluster (every instance counts into shared Redis counters, ' +
    'flushed about every second). hit_rate = hits / (hits + misses) of the level; avg_latency_ms is per ' +
    'lookup at that level; L2 is consulted only on an L1 miss. similarity_matches counts exact misses ' +
    'served by a similar company (threshold: the configured similarity). cost_savings: provider calls ' +
    'a cache hit avoided and their configured cost.',
  responses: {
    200: { description: 'Cache figures', content: { 'application/json': { schema: CacheStats } } },
    ...errorResponses(401, 429),
  },
});

const predictiveRoute = createRoute({
  method: 'get',
  path: '/v1/enrichment/predictive',
  tags: ['advanced'],
  security: [{ bearer: [] }],
  description:
    'Predictive pre-enrichment figures of the whole cluster. success_rate = pre_enriched / ' +
    'total_generated; avg_prediction_accuracy = leads served by a pre-enriched company / pre_enriched; ' +
    'zero_latency_requests = those leads; throughput_increase = estimated time without pre-enrichment / ' +
    'time observed − 1 (see services/enrich/predictive/counters.ts).',
  responses: {
    200: { description: 'Predictive figures', content: { 'application/json': { schema: PredictiveStats } } },
    ...errorResponses(401, 429),
  },
});

const multiSourceRoute = createRoute({
  method: 'get',
  path: '/v1/validation/multi-source',
  tags: ['advanced'],
  security: [{ bearer: [] }],
  description:
    'Verifies one email and asks the MULTI_SOURCE_PROVIDERS (Hunter, Clearbit, Snov) about it at once ' +
    '(an undeliverable address or a dead domain is not sent to them); per field, the agreement ' +
    'score and the number of agreeing sources (formula: services/enrich/consensus.ts). The answer is ' +
    'cached (a repeated call costs no provider call); an answer with a failed provider is not cached. ' +
    '504 when it takes longer than MULTI_SOURCE_TIMEOUT_MS.',
  request: { query: z.object({ email: z.string().trim().min(1, 'required').max(320) }) },
  responses: {
    200: {
      description: 'Consensus of the sources',
      content: { 'application/json': { schema: MultiSource } },
    },
    ...errorResponses(400, 401, 429, 504),
  },
});

export const advancedRoutes = createRouter()
  .openapi(cacheStatsRoute, async (c) => c.json(await c.var.deps.advanced.cacheStats(), 200))
  .openapi(predictiveRoute, async (c) => c.json(await c.var.deps.advanced.predictiveStats(), 200))
  .openapi(multiSourceRoute, async (c) => {
    const address = standardizeEmail(c.req.valid('query').email)?.email;
    if (!address) throw problem(400, 'email: required');
    const outcome = await c.var.deps.advanced.multiSource(address);
    if (outcome.kind === 'invalid') throw problem(400, `email: ${outcome.reason}`);
    if (outcome.kind === 'timeout') throw problem(504, 'the providers did not answer in time');
    return c.json(outcome.result, 200);
  });
