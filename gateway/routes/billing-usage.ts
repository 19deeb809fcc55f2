import { usageHandler, usageRouteDef } from '../billing/usage-route.ts';
import { createRouter } from '../validation.ts';

/** `GET /api/billing/usage`; the rest of the billing routes live in routes/billing.ts. */
export const billingUsageRoutes = createRouter().openapi(usageRouteDef, usageHandler);
