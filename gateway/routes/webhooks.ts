import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { checkTarget, targetPolicy } from '../../services/webhooks/address-guard.ts';
import type { Endpoint } from '../../services/webhooks/endpoints.ts';
import { WEBHOOK_EVENTS, WEBHOOK_TEST_EVENT } from '../../services/webhooks/events.ts';
import { problem } from '../errors.ts';
import { errorResponses, jsonBody } from '../openapi.ts';
import { createRouter } from '../validation.ts';
import { listDeliveries } from '../webhooks/deliveries.ts';

const DELIVERY_DOC =
  'Every delivery is a POST with the JSON body {"event", "batch_id", "timestamp", "data"} and the headers ' +
  'X-Leedrush-Signature (lowercase hex HMAC-SHA256 of the exact body bytes keyed with the secret), ' +
  'X-Leedrush-Event, X-Leedrush-Event-Id (the same id on every retry: deduplicate on it) and ' +
  'X-Leedrush-Delivery-Attempt (1, 2, ...). Any 2xx within 10 s is success; anything else (3xx included: ' +
  'redirects are not followed) is retried after about 1m, 5m, 30m, 2h, 6h, 12h and 24h (±20 %). An event ' +
  'is delivered to an endpoint at most once successfully.';

const WebhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    created_at: z.string(),
  })
  .openapi('WebhookEndpoint');

const CreatedEndpoint = WebhookEndpoint.extend({
  secret: z.string().openapi({ description: 'Signing secret: returned by this response only.' }),
}).openapi('WebhookEndpointCreated');

const Delivery = z
  .object({
    delivery_id: z.string(),
    event_id: z.string(),
    event: z.string(),
    attempt: z.number().int(),
    status_code: z.number().int().openapi({ description: '0 when no response came (timeout, refused).' }),
    success: z.boolean(),
    error: z.string(),
    latency_ms: z.number().int(),
    timestamp: z.string(),
  })
  .openapi('WebhookDelivery');

const IdParam = z.object({ id: z.string().min(1).max(100) });

const createRouteDef = createRoute({
  method: 'post',
  path: '/webhooks',
  tags: ['webhooks'],
  security: [{ bearer: [] }],
  description: `Registers an endpoint. The URL must be http(s) and resolve to public addresses only. ${DELIVERY_DOC}`,
  request: {
    body: jsonBody(
      z.object({
        url: z.string().min(1).max(2048),
        events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'give at least one event'),
      }),
    ),
  },
  responses: {
    201: {
      description: 'The endpoint, with its signing secret (shown this once)',
      content: { 'application/json': { schema: CreatedEndpoint } },
    },
    ...errorResponses(400, 401, 429),
  },
});

const listRouteDef = createRoute({
  method: 'get',
  path: '/webhooks',
  tags: ['webhooks'],
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: "The caller's endpoints, oldest first, without secrets",
      content: { 'application/json': { schema: z.array(WebhookEndpoint) } },
    },
    ...errorResponses(401, 429),
  },
});

const deleteRouteDef = createRoute({
  method: 'delete',
  path: '/webhooks/{id}',
  tags: ['webhooks'],
  security: [{ bearer: [] }],
  description: 'Removes the endpoint; pending retries to it are dropped. 204 with no body.',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404, 429) },
});

const deliveriesRouteDef = createRoute({
  method: 'get',
  path: '/webhooks/{id}/deliveries',
  tags: ['webhooks'],
  security: [{ bearer: [] }],
  description:
    'Every delivery attempt to the endpoint, newest first (the log is written within about a second).',
  request: {
    params: IdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: {
    200: { description: 'Attempts', content: { 'application/json': { schema: z.array(Delivery) } } },
    ...errorResponses(400, 401, 404, 429),
  },
});

const testRouteDef = createRoute({
  method: 'post',
  path: '/webhooks/{id}/test',
  tags: ['webhooks'],
  security: [{ bearer: [] }],
  description:
    `Sends a \`${WEBHOOK_TEST_EVENT}\` event to this endpoint only, whatever events it subscribed to: ` +
    'signed, retried and logged in its deliveries like any other event. Body: ' +
    `{"event": "${WEBHOOK_TEST_EVENT}", "batch_id": null, "timestamp", "data": {"endpoint_id", "message"}}. ` +
    '202: the event is queued (the first attempt follows within about a second).',
  request: { params: IdParam },
  responses: {
    202: {
      description: 'Queued for delivery',
      content: {
        'application/json': {
          schema: z
            .object({ event_id: z.string(), event: z.literal(WEBHOOK_TEST_EVENT) })
            .openapi('WebhookTestEvent'),
        },
      },
    },
    ...errorResponses(401, 404, 429),
  },
});

const publicView = ({ id, url, events, created_at }: Endpoint) => ({
  id,
  url,
  events: events as (typeof WEBHOOK_EVENTS)[number][],
  created_at,
});

export const webhookRoutes = createRouter()
  .openapi(createRouteDef, async (c) => {
    const { url, events } = c.req.valid('json');
    const { deps } = c.var;
    const check = await checkTarget(url, targetPolicy(deps.config));
    if (!check.ok) throw problem(400, `url: ${check.reason}`);
    const endpoint = await deps.webhooks.create(c.var.user.account_id, check.target.url.href, events);
    return c.json({ ...publicView(endpoint), secret: endpoint.secret }, 201);
  })
  .openapi(listRouteDef, async (c) => {
    const endpoints = await c.var.deps.webhooks.list(c.var.user.account_id);
    return c.json(endpoints.map(publicView), 200);
  })
  .openapi(deleteRouteDef, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await c.var.deps.webhooks.delete(c.var.user.account_id, id))) throw problem(404, 'no such webhook');
    return c.body(null, 204);
  })
  .openapi(deliveriesRouteDef, async (c) => {
    const { id } = c.req.valid('param');
    const { deps, user } = c.var;
    if (!(await deps.webhooks.get(user.account_id, id))) throw problem(404, 'no such webhook');
    const rows = await listDeliveries(deps.clickhouse, user.account_id, id, c.req.valid('query'));
    return c.json(rows, 200);
  })
  .openapi(testRouteDef, async (c) => {
    const { id } = c.req.valid('param');
    const { deps, user } = c.var;
    if (!(await deps.webhooks.get(user.account_id, id))) throw problem(404, 'no such webhook');
    const eventId = `${WEBHOOK_TEST_EVENT}:${randomBytes(12).toString('hex')}`;
    const now = Date.now();
    await deps.webhookQueue.enqueue(
      {
        endpoint_id: id,
        account_id: user.account_id,
        event_id: eventId,
        event: WEBHOOK_TEST_EVENT,
        batch_id: null,
        occurred_at: now,
        data_json: JSON.stringify({ endpoint_id: id, message: 'Test event sent from Leedrush' }),
        attempts: 0,
      },
      now,
    );
    return c.json({ event_id: eventId, event: WEBHOOK_TEST_EVENT }, 202);
  });
