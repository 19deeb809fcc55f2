import { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { GatewayEnv } from './env.ts';

/** Turns zod issues into one readable `detail`: "email: Invalid email address; password: ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** A router whose validators answer 400 {"detail"} instead of zod's default error shape. */
export function createRouter() {
  return new OpenAPIHono<GatewayEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json({ detail: describeIssues(result.error) }, 400);
    },
  });
}
