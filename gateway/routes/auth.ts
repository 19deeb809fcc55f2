import { createRoute, z } from '@hono/zod-openapi';
import { decoyHash, hashPassword, verifyPassword } from '../auth/password.ts';
import { clientAddress } from '../client.ts';
import { problem } from '../errors.ts';
import { ErrorBody, jsonBody } from '../openapi.ts';
import { createRouter } from '../validation.ts';

const Email = z
  .email()
  .max(254)
  .transform((e) => e.trim().toLowerCase());

const register = createRoute({
  method: 'post',
  path: '/auth/register',
  tags: ['auth'],
  request: {
    body: jsonBody(
      z.object({
        email: Email,
        password: z.string().min(10, 'must be at least 10 characters').max(1024),
        company: z.string().trim().min(1).max(200),
      }),
    ),
  },
  responses: {
    201: {
      description: 'Account created on the payg plan',
      content: {
        'application/json': {
          schema: z.object({ user_id: z.string(), email: z.string(), plan_id: z.string() }),
        },
      },
    },
    400: { description: 'Invalid body', content: { 'application/json': { schema: ErrorBody } } },
    409: { description: 'Email already registered', content: { 'application/json': { schema: ErrorBody } } },
  },
});

const login = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  request: {
    body: jsonBody(z.object({ email: Email, password: z.string().max(1024) })),
  },
  responses: {
    200: {
      description: 'A Bearer token',
      content: {
        'application/json': {
          schema: z.object({
            access_token: z.string(),
            token_type: z.literal('bearer'),
            expires_in: z.number().int(),
          }),
        },
      },
    },
    400: { description: 'Invalid body', content: { 'application/json': { schema: ErrorBody } } },
    401: { description: 'Wrong email or password', content: { 'application/json': { schema: ErrorBody } } },
    429: {
      description: 'Too many failed logins for this email or from this address (Retry-After)',
      content: { 'application/json': { schema: ErrorBody } },
    },
  },
});

export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const { email, password, company } = c.req.valid('json');
    const user = await c.var.deps.accounts.create(email, company, await hashPassword(password));
    if (!user) throw problem(409, 'an account with this email already exists');
    // Every account opens on payg with payg's credits for its first cycle, a month from now.
    await c.var.deps.billing.current(user.account_id);
    return c.json({ user_id: user.user_id, email: user.email, plan_id: user.plan_id }, 201);
  })
  .openapi(login, async (c) => {
    const { email, password } = c.req.valid('json');
    const { accounts, tokens, loginThrottle } = c.var.deps;
    const attempt = await loginThrottle.attempt(email, clientAddress(c));
    if (!attempt.allowed) {
      throw problem(
        429,
        `too many failed logins ${attempt.by === 'email' ? 'for this email' : 'from this address'}; try again in ${attempt.retryAfterSeconds} s`,
        { 'retry-after': String(attempt.retryAfterSeconds) },
      );
    }
    const user = await accounts.byEmail(email);
    const valid = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
    if (!user || !valid) throw problem(401, 'wrong email or password');
    await attempt.succeeded();
    const token = await tokens.sign(user.user_id, user.account_id);
    return c.json({ access_token: token, token_type: 'bearer' as const, expires_in: tokens.ttlSeconds }, 200);
  });
