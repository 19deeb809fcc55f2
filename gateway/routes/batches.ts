import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { batchObject, SORT_FIELDS, sortBatches } from '../batches/batch-object.ts';
import { csvBlock, storedLeads } from '../batches/download.ts';
import { startBatch } from '../batches/start-batch.ts';
import { problem } from '../errors.ts';
import { errorResponses, jsonBody } from '../openapi.ts';
import { envelope, listQuery, listSchema, wantsEnvelope } from '../pagination.ts';
import { storeAndInspect } from '../uploads/receive.ts';
import { createRouter } from '../validation.ts';
import { uploadProblem } from './uploads.ts';

const BatchStarted = z
  .object({
    batch_id: z.string(),
    status: z.string(),
    filename: z.string(),
    rows_total: z.number().int(),
    created_at: z.string(),
  })
  .openapi('BatchStarted');

const Batch = z
  .object({
    batch_id: z.string(),
    status: z.enum(['queued', 'processing', 'paused', 'completed', 'failed', 'streaming']),
    filename: z.string(),
    rows_total: z.number().int(),
    rows_qualified: z.number().int(),
    rows_failed: z.number().int(),
    rows_duplicate: z.number().int(),
    quality_yield: z.number(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    error_reason: z.string().optional(),
  })
  .openapi('Batch');

const processRoute = createRoute({
  method: 'post',
  path: '/process',
  tags: ['batches'],
  security: [{ bearer: [] }],
  request: {
    body: jsonBody(
      z
        .object({ filename: z.string().min(1).optional(), file_path: z.string().min(1).optional() })
        .refine((b) => b.filename || b.file_path, 'give filename or file_path'),
    ),
  },
  responses: {
    201: { description: 'Batch queued', content: { 'application/json': { schema: BatchStarted } } },
    ...errorResponses(400, 401, 403, 404, 422, 429),
  },
});

const leadsRoute = createRoute({
  method: 'post',
  path: '/leads',
  tags: ['batches'],
  security: [{ bearer: [] }],
  request: {
    body: jsonBody(
      z.object({
        leads: z.array(z.record(z.string(), z.unknown())).min(1, 'give at least one lead'),
      }),
    ),
  },
  responses: {
    201: { description: 'Batch queued', content: { 'application/json': { schema: BatchStarted } } },
    ...errorResponses(400, 401, 403, 413, 422, 429),
  },
});

const BatchIdParam = z.object({ batch_id: z.string().min(1).max(100) });

const ListQuery = listQuery(SORT_FIELDS);

const listRoute = createRoute({
  method: 'get',
  path: '/batches',
  tags: ['batches'],
  security: [{ bearer: [] }],
  description:
    'Without query parameters: a plain array, newest first. With any of limit, offset, sort, order: an envelope.',
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'Batches of the caller',
      content: {
        'application/json': {
          schema: listSchema(Batch),
        },
      },
    },
    ...errorResponses(400, 401),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/batches/{batch_id}',
  tags: ['batches'],
  security: [{ bearer: [] }],
  request: { params: BatchIdParam },
  responses: {
    200: {
      description: 'One batch with its pipeline metrics',
      content: {
        'application/json': {
          schema: Batch.extend({
            leads_processed: z.number().int(),
            leads_qualified: z.number().int(),
            phase3_metrics: z.object({
              cache_hit_rate: z.number(),
              predictive_matches: z.number().int(),
              multi_source_validated: z.number().int(),
              avg_confidence: z.number(),
            }),
          }),
        },
      },
    },
    ...errorResponses(401, 404),
  },
});

const downloadRoute = createRoute({
  method: 'get',
  path: '/batches/{batch_id}/download',
  tags: ['batches'],
  security: [{ bearer: [] }],
  description:
    'Results of a completed batch, in file order: CSV of the QUALIFIED leads by default; format=json for lead objects; include=all adds the other leads with their status. Streamed.',
  request: {
    params: BatchIdParam,
    query: z.object({ format: z.enum(['csv', 'json']).optional(), include: z.enum(['all']).optional() }),
  },
  responses: {
    200: {
      description: 'The result file',
      content: {
        'text/csv': { schema: z.string() },
        'application/json': { schema: z.array(z.object({}).passthrough()) },
      },
    },
    ...errorResponses(400, 401, 404, 409),
  },
});

const started = (b: {
  batch_id: string;
  status: string;
  filename: string;
  rows_total: number;
  created_at: string;
}) => ({
  batch_id: b.batch_id,
  status: b.status,
  filename: b.filename,
  rows_total: b.rows_total,
  created_at: b.created_at,
});

export const batchRoutes = createRouter()
  .openapi(processRoute, async (c) => {
    const body = c.req.valid('json');
    const { uploadIndex } = c.var.deps;
    const accountId = c.var.user.account_id;
    const upload = body.file_path
      ? await uploadIndex.byPath(accountId, body.file_path)
      : await uploadIndex.byName(accountId, body.filename ?? '');
    if (!upload)
      throw problem(404, `no upload ${JSON.stringify(body.file_path ?? body.filename)} in this account`);
    const batch = await startBatch(c.var.deps, c.var.user, upload, upload.format);
    return c.json(started(batch), 201);
  })
  .openapi(leadsRoute, async (c) => {
    const { leads } = c.req.valid('json');
    const { uploads, uploadIndex } = c.var.deps;
    const accountId = c.var.user.account_id;
    // API leads take the same road as files: stored as NDJSON, read by ingest, so both behave alike.
    const ndjson = Readable.from(leads.map((lead) => `${JSON.stringify(lead)}\n`)).map((line: string) =>
      Buffer.from(line),
    );
    const received = await storeAndInspect(uploads, accountId, 'api_leads.ndjson', ndjson).catch((err) => {
      throw uploadProblem(err);
    });
    const meta = {
      filename: received.filename,
      file_path: received.stored.file_path,
      size: received.stored.size,
      rows_detected: received.inspection.rows_detected,
      format: 'ndjson',
      uploaded_at: new Date().toISOString(),
    };
    await uploadIndex.record(accountId, meta);
    const batch = await startBatch(c.var.deps, c.var.user, meta, 'api');
    return c.json(started(batch), 201);
  })
  .openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const all = await c.var.deps.batchLists.list(c.var.user.account_id);
    if (!wantsEnvelope(q)) return c.json(all, 200);
    return c.json(envelope(sortBatches(all, q.sort ?? 'created_at', q.order ?? 'desc'), q), 200);
  })
  .openapi(detailRoute, async (c) => {
    const { batches, batchMetrics } = c.var.deps;
    const batch = await batches.get(c.var.user.account_id, c.req.valid('param').batch_id);
    if (!batch) throw problem(404, 'no such batch');
    return c.json(
      {
        ...batchObject(batch),
        leads_processed: batch.rows_done,
        leads_qualified: batch.rows_qualified,
        phase3_metrics: await batchMetrics.read(batch.batch_id),
      },
      200,
    );
  })
  .openapi(downloadRoute, async (c) => {
    const { batches, clickhouseExport } = c.var.deps;
    const { batch_id } = c.req.valid('param');
    const { format = 'csv', include } = c.req.valid('query');
    const batch = await batches.get(c.var.user.account_id, batch_id);
    if (!batch) throw problem(404, 'no such batch');
    if (batch.status !== 'completed')
      throw problem(409, `batch ${batch_id} is ${batch.status}, not completed`);
    const stem = batch.filename.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'leads';
    c.header(
      'content-type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    );
    c.header(
      'content-disposition',
      `attachment; filename="${stem}_${include ? 'all' : 'qualified'}.${format}"`,
    );
    const blocks = storedLeads(clickhouseExport, batch.account_id, batch.batch_id, include === 'all');
    return stream(c, async (out) => {
      let first = true;
      if (format === 'json') await out.write('[');
      for await (const leads of blocks) {
        if (leads.length === 0) continue;
        if (format === 'csv') await out.write(csvBlock(leads, first));
        else await out.write(`${first ? '' : ','}${leads.map((l) => JSON.stringify(l)).join(',')}`);
        first = false;
      }
      if (format === 'json') await out.write(']');
      else if (first) await out.write(csvBlock([], true));
    });
  });
