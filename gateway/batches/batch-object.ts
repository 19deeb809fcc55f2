import { type BatchRecord, qualityYield, rowsFailed } from '../../services/lib/batch-tracker.ts';

/** The batch object of API.md, computed from the tracker's counters. */
export function batchObject(b: BatchRecord) {
  return {
    batch_id: b.batch_id,
    status: b.status,
    filename: b.filename,
    rows_total: b.rows_total,
    rows_qualified: b.rows_qualified,
    rows_failed: rowsFailed(b),
    rows_duplicate: b.rows_duplicate,
    quality_yield: qualityYield(b),
    created_at: b.created_at,
    completed_at: b.completed_at,
    ...(b.error_reason ? { error_reason: b.error_reason } : {}),
  };
}
export type BatchObject = ReturnType<typeof batchObject>;

export const SORT_FIELDS = ['created_at', 'status', 'rows_total'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

/** Sorts batch records or batch objects (both carry the sort fields). */
export function sortBatches<T extends Pick<BatchRecord, SortField | 'batch_id'>>(
  items: readonly T[],
  sort: SortField,
  order: 'asc' | 'desc',
): T[] {
  const dir = order === 'asc' ? 1 : -1;
  const cmp = (a: T, b: T): number => {
    const x = a[sort];
    const y = b[sort];
    if (x < y) return -dir;
    if (x > y) return dir;
    // Deterministic pages: ties fall back to newest first, then id.
    return b.created_at.localeCompare(a.created_at) || a.batch_id.localeCompare(b.batch_id);
  };
  return [...items].sort(cmp);
}
