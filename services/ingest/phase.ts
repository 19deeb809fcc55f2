import type { BatchRequest, LeadRejection, RawLead } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { type UploadStore, UploadStoreError } from '../lib/upload-store.ts';
import { definePhase, dlq, ok, type PhaseResult, reject } from '../runtime/index.ts';
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
  /** Marks the batch failed with the reason (the batch tracker), when its file cannot be read at all. */
  failBatch?: (request: BatchRequest, reason: string) => Promise<unknown>;
}

const SOURCES = new Set(['csv', 'json', 'ndjson', 'api']);

/** `<batch_id>:<row_index>`: the lead's id through the whole pipeline (LeadMeta.lead_id). */
export const leadIdOf = (batchId: string, rowIndex: number): string => `${batchId}:${rowIndex}`;

/**
 * A BatchRequest → one result per data record of its upload, in file order: ok(RawLead) for each
 * readable row, reject for each unreadable one. A file that is missing or unreadable as a whole fails
 * the batch (status failed, error_reason) and yields one dlq result, so the request lands in
 * batches.requests.dlq with that reason.
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
    await deps.failBatch?.(request, reason);
    yield dlq(reason);
    return;
  }
  const source = SOURCES.has(request.source) ? request.source : upload.format;
  for await (const item of upload.items) {
    yield item.kind === 'row' ? ok(rawLeadOf(request, source, item)) : rowRejected(item);
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

/**
 * The runtime hands `rejectionOf` only the reason and detail of a reject, so the row's position and
 * raw text travel inside the detail, behind a marker no reader detail starts with, and are unpacked
 * into the LeadRejection's own fields there. They never leave the process in this form.
 */
const ROW_FACTS = '\u0000ingest-row\u0000';

interface RowFacts {
  detail: string;
  row_index: number;
  line_number: number;
  raw: string;
}

function rowRejected(item: ReaderRejection): PhaseResult<RawLead> {
  const facts: RowFacts = {
    detail: item.detail,
    row_index: item.rowIndex,
    line_number: item.lineNumber,
    raw: item.raw,
  };
  return reject(item.reason, ROW_FACTS + JSON.stringify(facts));
}

/** The leads.failed record of an unreadable row (phase 'ingest', its line and raw text). */
export function rejectionOf(
  request: BatchRequest,
  reason: string,
  detail: string,
  now = Date.now(),
): LeadRejection {
  if (!detail.startsWith(ROW_FACTS)) throw new Error(`ingest rejection without row facts: ${reason}`);
  const facts = JSON.parse(detail.slice(ROW_FACTS.length)) as RowFacts;
  return {
    lead_id: leadIdOf(request.batch_id, facts.row_index),
    account_id: request.account_id,
    batch_id: request.batch_id,
    row_index: facts.row_index,
    line_number: facts.line_number,
    phase: 'ingest',
    reason,
    detail: facts.detail,
    original: { raw_line: facts.raw },
    rejected_at: now,
  };
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
