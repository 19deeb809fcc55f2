import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error body is {"detail": "..."} (API.md). */
export function problem(status: ContentfulStatusCode, detail: string, headers?: Record<string, string>) {
  return new HTTPException(status, {
    res: new Response(JSON.stringify({ detail }), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    }),
  });
}

export function notFound(c: Context) {
  return c.json({ detail: `no route for ${c.req.method} ${c.req.path}` }, 404);
}

/** Unexpected errors are logged with the request id; the client gets no stack trace. */
export function onError(log: (fields: object, msg: string) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      if (res.headers.get('content-type')?.includes('application/json')) return res;
      return c.json({ detail: err.message || res.statusText || 'error' }, err.status);
    }
    log({ err, request_id: c.get('requestId') }, 'unhandled error');
    return c.json({ detail: 'internal error', request_id: c.get('requestId') }, 500);
  };
}
