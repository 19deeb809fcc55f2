import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * An error answer: {"detail": "..."} (API.md) with its status and headers. It carries its parts, not a
 * Response: onError writes it with c.json, while HTTPException's own Response would be copied into a
 * streamed WHATWG Response — several times the cost of the request on hot paths such as the 429s of
 * the rate limiter.
 */
export class Problem extends HTTPException {
  constructor(
    override readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message: detail });
  }
}

export function problem(status: ContentfulStatusCode, detail: string, headers?: Record<string, string>) {
  return new Problem(status, detail, headers);
}

export function notFound(c: Context) {
  return c.json({ detail: `no route for ${c.req.method} ${c.req.path}` }, 404);
}

/** Unexpected errors are logged with the request id; the client gets no stack trace. */
export function onError(log: (fields: object, msg: string) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof Problem) return c.json({ detail: err.detail }, err.status, err.headers);
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      if (res.headers.get('content-type')?.includes('application/json')) return res;
      return c.json({ detail: err.message || res.statusText || 'error' }, err.status);
    }
    log({ err, request_id: c.get('requestId') }, 'unhandled error');
    return c.json({ detail: 'internal error', request_id: c.get('requestId') }, 500);
  };
}
