import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from '@hono/zod-openapi';
import { html, raw } from 'hono/html';

/** Every error body of the API: {"detail": "..."} (API.md). */
export const ErrorBody = z.object({ detail: z.string() }).openapi('Error');

/** The error responses of a route, documented with the shared {"detail"} body. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { description: 'Error', content: { 'application/json': { schema: ErrorBody } } },
    ]),
  );

/** A required JSON request body validated by `schema` (400 {"detail"} otherwise). */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/**
 * The upload route reads its multipart body as a stream (a zod body validator would buffer the file),
 * so its contract is registered here for the document only.
 */
export function registerUploadDoc(registry: OpenAPIRegistry): void {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: ErrorBody } },
  });
  registry.registerPath({
    method: 'post',
    path: '/upload',
    tags: ['files'],
    security: [{ bearer: [] }],
    description: "A CSV or JSON (array or NDJSON) lead file, streamed to the account's upload store.",
    request: {
      body: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: z.object({ file: z.string().openapi({ type: 'string', format: 'binary' }) }),
          },
        },
      },
    },
    responses: {
      201: {
        description: 'Stored; rows counted by the same reader ingest uses',
        content: {
          'application/json': {
            schema: z.object({
              filename: z.string(),
              size: z.number().int(),
              file_path: z
                .string()
                .openapi({ description: "Logical path inside the account's upload store" }),
              rows_detected: z.number().int(),
            }),
          },
        },
      },
      400: error('Not a multipart body with a "file" field'),
      401: error('Missing or invalid Bearer token'),
      413: error('Larger than the configured upload limit'),
      422: error('No recognisable email column, empty, or not CSV/JSON'),
      429: error('Rate limit exceeded'),
    },
  });
}

export interface DocsInput {
  info: { title: string; version: string; description?: string };
  paths?: Record<
    string,
    Record<
      string,
      {
        description?: string;
        summary?: string;
        tags?: string[];
        responses?: Record<string, { description?: string }>;
      }
    >
  >;
}

/**
 * A self-contained page (no scripts, no CDN) listing every operation of the OpenAPI document; its one
 * inline style carries the response's CSP nonce.
 */
export function renderDocsPage(doc: DocsInput, styleNonce: string): string {
  const rows = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    Object.entries(ops).map(
      ([method, op]) => html`<tr>
        <td><code>${method.toUpperCase()}</code></td>
        <td><code>/api${path}</code></td>
        <td>${op.summary ?? op.description ?? ''}</td>
        <td>${Object.entries(op.responses ?? {})
          .map(([code, r]) => `${code} ${r.description ?? ''}`)
          .join(' · ')}</td>
      </tr>`,
    ),
  );
  return String(html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${doc.info.title} ${doc.info.version}</title>
        <style nonce="${styleNonce}">
          body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; }
          table { border-collapse: collapse; } td { border-top: 1px solid #ddd; padding: .4rem .6rem; vertical-align: top; }
        </style>
      </head>
      <body>
        <h1>${doc.info.title} ${doc.info.version}</h1>
        <p>${doc.info.description ?? ''} Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
        <table>${raw(rows.map(String).join(''))}</table>
      </body>
    </html>`);
}
