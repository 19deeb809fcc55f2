import type { BatchRequest } from '../../schemas/generated.ts';
import type { BatchRecord } from '../../services/lib/batch-tracker.ts';
import { TOPICS } from '../../services/lib/names.ts';
import type { User } from '../auth/accounts.ts';
import type { GatewayDeps } from '../env.ts';
import { problem } from '../errors.ts';
import { PLANS } from '../plans.ts';
import type { UploadMeta } from '../uploads/upload-index.ts';

/** How long a client told "too many running batches" should wait before asking again. */
export const CONCURRENCY_RETRY_AFTER_S = 15;

/**
 * Checks the plan's limits, records the batch as queued and asks ingest to read the file. If the
 * request cannot be published the batch is marked failed at once: no batch is left queued for ever.
 */
export async function startBatch(
  deps: GatewayDeps,
  user: User,
  upload: UploadMeta,
  source: string,
): Promise<BatchRecord> {
  const plan = PLANS[user.plan_id];
  if (upload.rows_detected === 0) throw problem(422, `${upload.filename} has no data rows`);
  if (plan.maxRowsPerBatch !== null && upload.rows_detected > plan.maxRowsPerBatch) {
    throw problem(
      403,
      `${upload.rows_detected} rows exceed the ${plan.name} plan's maximum of ${plan.maxRowsPerBatch} per batch`,
    );
  }
  const batch = await deps.batches.create(
    {
      account_id: user.account_id,
      filename: upload.filename,
      file_path: upload.file_path,
      source,
      rows_total: upload.rows_detected,
    },
    plan.concurrentBatches,
  );
  if (!batch) {
    throw problem(429, `the ${plan.name} plan runs at most ${plan.concurrentBatches} batches at once`, {
      'retry-after': String(CONCURRENCY_RETRY_AFTER_S),
    });
  }
  const request: BatchRequest = {
    batch_id: batch.batch_id,
    account_id: batch.account_id,
    file_path: upload.file_path,
    filename: upload.filename,
    format: upload.format,
    rows_total: upload.rows_detected,
    source,
    requested_at: Date.parse(batch.created_at),
  };
  try {
    await deps.publisher.publish(TOPICS.batchRequests, 'BatchRequest', batch.account_id, [request]);
  } catch (err) {
    deps.log.error({ err, batch_id: batch.batch_id }, 'batch request not published');
    await deps.batches.fail(batch.batch_id, batch.account_id, 'the batch could not be queued');
    throw problem(500, 'the batch could not be queued; nothing was processed, please retry');
  }
  return batch;
}
