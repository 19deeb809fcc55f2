import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type {
  BatchRequest,
  EnrichedLead,
  LeadRejection,
  RawLead,
  ScoredLead,
} from '../../schemas/generated.ts';
import { DEFAULT_SETTINGS } from '../dedupe/config.ts';
import { resolveBatch } from '../dedupe/resolve.ts';
import type { ProviderMode } from '../enrich/provider-mode.ts';
import { rawLeadOf } from '../ingest/phase.ts';
import { openUpload } from '../ingest/reader/index.ts';
import { UPLOAD_READ_CHUNK } from '../lib/upload-store.ts';
import { type EmbeddedError, runEmbedded } from '../runtime/embedded.ts';
import { scorePhase } from '../score/phase.ts';
import type { IcpProfile } from '../score/profile.ts';
import { standardizePhase } from '../standardize/phase.ts';
import { createVerifyContext } from '../verify/context.ts';
import { verifyPhase } from '../verify/phase.ts';
import { type DnsReach, probeDns, unreachableDns } from './dns.ts';
import { type EnrichmentSpend, openEnrichment } from './enrichment.ts';
import type { EmbeddedSettings } from './settings.ts';

/** The batch a local file stands for: lead ids are `local:<row_index>`. */
const ACCOUNT = 'local';
const BATCH = 'local';

/** A row that did not become a scored lead: unreadable, unusable, or failed in a phase. */
export interface Failure {
  row_index: number;
  phase: string;
  reason: string;
  detail: string;
}

export interface PipelineResult {
  /** Data records of the file (readable or not). */
  rows: number;
  /** Every scored lead, in file order. */
  leads: ScoredLead[];
  failures: Failure[];
  dns: DnsReach;
  enrichment: { mode: ProviderMode; spend: EnrichmentSpend };
}

export interface PipelineOptions {
  settings: EmbeddedSettings;
  profile: IcpProfile;
  /** Enrich from the provider sandbox (invented data, for tests and benchmarks): `--sandbox`. */
  sandbox?: boolean;
  /** Called as rows finish the per-lead phases. */
  onProgress?: (done: number, total: number) => void;
  now?: () => number;
}

/** A file that cannot be run at all (missing, a folder): a usage error, not a row failure. */
export class InputFileError extends Error {}

/**
 * The main job in one process: the file read by the shared reader, then standardize → verify →
 * enrich per lead (several leads in flight), dedupe over the whole file once every lead is enriched,
 * and score. Each hand-off goes through its topic's Avro schema, as through Kafka. The reader's
 * UploadFormatError (a file unreadable as a whole) propagates.
 */
export async function runPipeline(path: string, options: PipelineOptions): Promise<PipelineResult> {
  const { settings, profile } = options;
  const info = await stat(path).catch(() => null);
  if (!info) throw new InputFileError(`file not found: ${path}`);
  if (!info.isFile()) throw new InputFileError(`not a file: ${path}`);

  const request: BatchRequest = {
    batch_id: BATCH,
    account_id: ACCOUNT,
    file_path: path,
    filename: basename(path),
    format: '',
    rows_total: 0,
    source: '',
    requested_at: (options.now ?? Date.now)(),
  };
  const upload = await openUpload(createReadStream(path, { highWaterMark: UPLOAD_READ_CHUNK }), {
    filename: request.filename,
  });
  const raws: RawLead[] = [];
  const failures: Failure[] = [];
  for await (const item of upload.items) {
    if (item.kind === 'row') raws.push(rawLeadOf(request, upload.format, item));
    else
      failures.push({ row_index: item.rowIndex, phase: 'ingest', reason: item.reason, detail: item.detail });
  }
  const rows = raws.length + failures.length;

  const dns = await probeDns(settings.DNS_SERVERS, settings.DNS_TIMEOUT_MS, settings.DNS_CANARY);
  const verify = createVerifyContext(settings, null, dns.reachable ? {} : { dns: unreachableDns });
  const enrichment = await openEnrichment(settings, dns.reachable, options.sandbox ?? false);
  try {
    const chain = [standardizePhase, verifyPhase(verify), enrichment.phase];
    const enriched = await enrichAll(
      chain,
      raws,
      settings.EMBEDDED_CONCURRENCY,
      failures,
      options.onProgress,
    );
    const { leads: deduped } = resolveBatch(enriched, [], DEFAULT_SETTINGS);
    const scored = await runEmbedded<ScoredLead>([scorePhase({ profileOf: async () => profile })], deduped);
    failures.push(...scored.errors.map(errorFailure));
    failures.sort((a, b) => a.row_index - b.row_index);
    const { mode, spend } = enrichment;
    return { rows, leads: scored.outputs, failures, dns, enrichment: { mode, spend } };
  } finally {
    await enrichment.close();
  }
}

/** Runs the per-lead phases with `concurrency` leads in flight; failures are appended to `failures`. */
async function enrichAll(
  chain: Parameters<typeof runEmbedded>[0],
  raws: RawLead[],
  concurrency: number,
  failures: Failure[],
  onProgress: PipelineOptions['onProgress'],
): Promise<EnrichedLead[]> {
  // Lanes pull from one iterator, so a lead waiting on DNS holds up only its own lane.
  const queue = raws[Symbol.iterator]();
  let done = 0;
  function* lane(): Generator<RawLead> {
    for (let next = queue.next(); !next.done; next = queue.next()) {
      yield next.value;
      onProgress?.(++done, raws.length);
    }
  }
  const lanes = await Promise.all(
    Array.from({ length: Math.min(concurrency, Math.max(raws.length, 1)) }, () =>
      runEmbedded<EnrichedLead>(chain, lane()),
    ),
  );
  const enriched: EnrichedLead[] = [];
  for (const r of lanes) {
    enriched.push(...r.outputs);
    failures.push(...r.rejections.map(rejectionFailure), ...r.errors.map(errorFailure));
    if (r.dropped > 0) throw new Error(`${r.dropped} leads dropped by a phase that never drops`);
  }
  return enriched;
}

function rejectionFailure(r: LeadRejection): Failure {
  return { row_index: r.row_index ?? -1, phase: r.phase, reason: r.reason, detail: r.detail };
}

/** The row of a phase's input, whichever record it is (RawLead, or a lead with meta). */
function errorFailure(e: EmbeddedError): Failure {
  const input = e.input as { row_index?: number; meta?: { row_index: number } };
  return {
    row_index: input.meta?.row_index ?? input.row_index ?? -1,
    phase: e.phase,
    reason: 'phase_error',
    detail: e.reason,
  };
}
