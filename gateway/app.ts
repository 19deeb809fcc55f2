import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { Registry } from 'prom-client';
import type { GatewayDeps, GatewayEnv } from './env.ts';
import { notFound, onError, problem } from './errors.ts';
import { requireUser } from './middleware/auth.ts';
import { observe } from './middleware/observability.ts';
import { planRateLimit } from './middleware/plan-rate-limit.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { type DocsInput, registerUploadDoc, renderDocsPage } from './openapi.ts';
import { accountRoutes } from './routes/account.ts';
import { advancedRoutes } from './routes/advanced.ts';
import { authRoutes } from './routes/auth.ts';
import { batchRoutes } from './routes/batches.ts';
import { billingRoutes, stripeWebhookRoutes } from './routes/billing.ts';
import { billingUsageRoutes } from './routes/billing-usage.ts';
import { scoringRoutes } from './routes/scoring.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { webRoutes } from './web/router.ts';

export function createApp(deps: GatewayDeps) {
  const registry = new Registry();
  const app = new OpenAPIHono<GatewayEnv>();

  app.use('*', requestId({ headerName: 'x-request-id' }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', securityHeaders);
  app.use('*', observe(registry));
  app.notFound(notFound);
  app.onError(onError((fields, msg) => deps.log.error(fields, msg)));

  app.get('/health', async (c) => {
    const redis = await deps.redis.ping().then(
      () => true,
      () => false,
    );
    return c.json({ status: redis ? 'ok' : 'degraded', redis }, redis ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );

  const api = new OpenAPIHono<GatewayEnv>();
  // Uploads have their own, larger limit; every other body is JSON and bounded here.
  const jsonLimit = bodyLimit({
    maxSize: deps.config.JSON_BODY_MAX_BYTES,
    onError: () => {
      throw problem(413, `request body larger than ${deps.config.JSON_BODY_MAX_BYTES} bytes`);
    },
  });
  // GET and HEAD carry no body: the limit would only make the node adapter build a full fetch Request
  // (headers copy, AbortController) on every read request to find that out.
  api.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.path === '/api/upload'
      ? next()
      : jsonLimit(c, next),
  );
  api.route('/', authRoutes);
  // Public documents come before the authenticated group, whose middleware matches every path.
  const openapi = {
    openapi: '3.1.0',
    info: {
      title: 'Leedrush API',
      version: '1.0.0',
      description: 'Lead validation pipeline (the contract: API.md).',
    },
    servers: [{ url: '/api' }],
  };
  api.doc31('/openapi.json', openapi);
  api.get('/docs', (c) =>
    c.html(
      renderDocsPage(
        api.getOpenAPI31Document(openapi) as unknown as DocsInput,
        c.get('secureHeadersNonce') ?? '',
      ),
    ),
  );
  registerUploadDoc(api.openAPIRegistry);
  api.route('/', stripeWebhookRoutes);

  // Routers are copied when mounted, so the authenticated group is complete before it is mounted.
  const authed = new OpenAPIHono<GatewayEnv>();
  authed.use('*', requireUser, planRateLimit);
  authed.route('/', accountRoutes);
  authed.route('/', uploadRoutes);
  authed.route('/', batchRoutes);
  authed.route('/', webhookRoutes);
  authed.route('/', advancedRoutes);
  authed.route('/', scoringRoutes);
  authed.route('/', billingRoutes);
  authed.route('/', billingUsageRoutes);
  api.route('/', authed);
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.route('/api', api);
  app.route('/', webRoutes);
  return { app, registry };
}
