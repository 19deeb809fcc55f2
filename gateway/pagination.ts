import { z } from '@hono/zod-openapi';

/**
 * API.md "Pagination": a list endpoint without query parameters answers a plain array; with any of
 * limit (default 20, max 100), offset (default 0), sort and order (default desc) it answers the envelope
 * {items, total, limit, offset, has_more}. An unknown sort field or order is a 400 (the validator's).
 */
export const listQuery = <F extends readonly [string, ...string[]]>(sortFields: F) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(100).optional(),
    offset: z.coerce.number().int().min(0).optional(),
    sort: z.enum(sortFields).optional(),
    order: z.enum(['asc', 'desc']).optional(),
  });

export interface ListParams {
  limit?: number;
  offset?: number;
  sort?: string;
  order?: 'asc' | 'desc';
}

/** The plain array or the envelope schema of a list of `item`. */
export const listSchema = <S extends z.ZodType>(item: S) =>
  z.union([
    z.array(item),
    z.object({
      items: z.array(item),
      total: z.number().int(),
      limit: z.number().int(),
      offset: z.number().int(),
      has_more: z.boolean(),
    }),
  ]);

export const wantsEnvelope = (q: ListParams): boolean => Object.values(q).some((v) => v !== undefined);

/** One page of `sorted` (already in the requested order) as the envelope. */
export function envelope<T>(sorted: readonly T[], q: ListParams) {
  const limit = q.limit ?? 20;
  const offset = q.offset ?? 0;
  const items = sorted.slice(offset, offset + limit);
  return { items, total: sorted.length, limit, offset, has_more: offset + items.length < sorted.length };
}
