import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../validation.ts';

const whoami = createRoute({
  method: 'get',
  path: '/auth/whoami',
  tags: ['auth'],
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: 'The authenticated user (lets a script check its token)',
      content: {
        'application/json': {
          schema: z.object({
            user_id: z.string(),
            account_id: z.string(),
            email: z.string(),
            company: z.string(),
            plan_id: z.string(),
          }),
        },
      },
    },
  },
});

export const accountRoutes = createRouter().openapi(whoami, (c) => {
  const { user_id, account_id, email, company, plan_id } = c.var.user;
  return c.json({ user_id, account_id, email, company, plan_id }, 200);
});
