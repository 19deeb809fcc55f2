import type { BatchRequest, LeadRejection, RawLead } from '../../schemas/generated.ts';
import { BATCH_FAILED_REASON, batchFailure } from '../lib/batch-tracker.ts';
import { TOPICS } from '../lib/names.ts';
import { type UploadStore, UploadStoreError } from '../lib/upload-store.ts';
import { definePhase, ok, type PhaseResult, reject } from '../runtime/index.ts';
import {
  LEAD_FIELDS,
  type LeadField,
  openUpload,
  type ReaderRejection,
  type ReaderRow,
  UploadFormatError,
} from './reader/index.ts';

export interface IngestDeps {
  store: UploadStore;
  /** Longest record read (see ReaderOptions.maxRecordChars). */
  maxRecordChars?: number;
  /** Clock for rejected_at. */
  now?: () => number;
  /** Marks the batch processing (the batch tracker) as soon as its file is open. */
  startBatch?: (request: BatchRequest) => Promise<unknown>;
}

const SOURCES = new Set(['csv', 'json', 'ndjson', 'api']);

/** `<batch_id>:<row_index>`: the lead's id through the whole pipeline (LeadMeta.lead_id). */
export const leadIdOf = (batchId: string, rowIndex: number): string => `${batchId}:${rowIndex}`;

/**
 * A BatchRequest → one result per data record of its upload, in file order: ok(RawLead) for each
 * readable row, reject for each unreadable one. A file that is missing or unreadable as a whole yields
 * one reject with reason `batch_failed` and no row: the batch-failure signal (batch-tracker.ts) that the
 * sink turns into status failed with the error reason, the ClickHouse batch row and `batch.failed`.
 * Deterministic (received_at is the request time), so the runtime can replay it after a failure.
 */
export async function* ingestBatch(
  request: BatchRequest,
  deps: IngestDeps,
): AsyncGenerator<PhaseResult<RawLead>> {
  let upload: Awaited<ReturnType<typeof openUpload>>;
  try {
    const bytes = await deps.store.open(request.account_id, request.file_path);
    upload = await openUpload(bytes, { filename: request.filename, maxRecordChars: deps.maxRecordChars });
  } catch (err) {
    if (!(err instanceof UploadFormatError || err instanceof UploadStoreError)) throw err;
    const reason =
      err instanceof UploadFormatError ? `${err.code}: ${err.detail}` : `${err.code}: ${err.message}`;
    yield reject(BATCH_FAILED_REASON, reason);
    return;
  }
  await deps.startBatch?.(request);
  const source = SOURCES.has(request.source) ? request.source : upload.format;
  for await (const item of upload.items) {
    yield item.kind === 'row' ? ok(rawLeadOf(request, source, item)) : rowRejected(request, item);
  }
}

export function rawLeadOf(request: BatchRequest, source: string, row: ReaderRow): RawLead {
  // Every column present: an empty cell is null, as direct producers send it.
  const columns = Object.fromEntries(LEAD_FIELDS.map((f) => [f, row.fields[f] ?? null])) as Pick<
    RawLead,
    LeadField
  >;
  return {
    account_id: request.account_id,
    batch_id: request.batch_id,
    row_index: row.rowIndex,
    source,
    received_at: request.requested_at,
    ...columns,
    extras: row.extras,
  };
}

function rowRejected(request: BatchRequest, item: ReaderRejection): PhaseResult<RawLead> {
  return reject(item.reason, item.detail, {
    lead_id: leadIdOf(request.batch_id, item.rowIndex),
    row_index: item.rowIndex,
    line_number: item.lineNumber,
    original: { raw_line: item.raw },
  });
}

/**
 * The leads.failed record of an ingest reject: the batch as a whole (the batch-failure signal) unless the
 * reject names its row, whose facts then replace the batch-level ones.
 */
export function rejectionOf(
  request: BatchRequest,
  reason: string,
  detail: string,
  now = Date.now(),
): LeadRejection {
  return { ...batchFailure(request.batch_id, request.account_id, detail, now), reason };
}

/** The phase as the runtime runs it: batches.requests → leads.raw (+ leads.failed). */
export function ingestPhase(deps: IngestDeps) {
  const now = deps.now ?? Date.now;
  return definePhase<BatchRequest, RawLead>({
    name: 'ingest',
    input: { topic: TOPICS.batchRequests, record: 'BatchRequest' },
    output: { topic: TOPICS.raw, record: 'RawLead' },
    // Spread over partitions: downstream phases scale with them; row_index keeps the file order.
    keyOf: (lead) => leadIdOf(lead.batch_id ?? '', lead.row_index ?? 0),
    expand: (request) => ingestBatch(request, deps),
    rejectionOf: (request, reason, detail) => rejectionOf(request, reason, detail, now()),
  });
}
