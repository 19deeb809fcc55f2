/** `GET /api/billing/usage` (API.md "Billing"): its OpenAPI definition and handler, mounted by gateway/routes/billing-usage.ts. */
import { createRoute, type RouteHandler, z } from '@hono/zod-openapi';
import type { GatewayEnv } from '../env.ts';
import { problem } from '../errors.ts';
import { errorResponses } from '../openapi.ts';
import { MAX_RANGE_DAYS, parseUsageRange, usageReport } from './usage.ts';

const Usage = z
  .object({
    total_consumed: z.number().int(),
    daily_usage: z.array(z.object({ date: z.string(), credits: z.number().int() })),
  })
  .openapi('BillingUsage');

export const usageRouteDef = createRoute({
  method: 'get',
  path: '/billing/usage',
  tags: ['billing'],
  security: [{ bearer: [] }],
  description:
    'Credits consumed (one per lead that entered the pipeline) per day, UTC, from start to end inclusive ' +
    `(at most ${MAX_RANGE_DAYS} days; default: the 30 days up to today). Every day of the range is listed, ` +
    '0 where nothing was consumed. Usage is recorded within seconds of the leads entering the pipeline.',
  request: {
    query: z.object({
      start: z.string().optional().openapi({ example: '2026-02-01' }),
      end: z.string().optional().openapi({ example: '2026-02-28' }),
    }),
  },
  responses: {
    200: { description: 'Usage', content: { 'application/json': { schema: Usage } } },
    ...errorResponses(400, 401, 429),
  },
});

export const usageHandler: RouteHandler<typeof usageRouteDef, GatewayEnv> = async (c) => {
  const parsed = parseUsageRange(c.req.valid('query'));
  if ('detail' in parsed) throw problem(400, parsed.detail);
  return c.json(await usageReport(c.var.deps.clickhouse, c.var.user.account_id, parsed.range), 200);
};
