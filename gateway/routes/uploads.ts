import { Hono } from 'hono';
import { UploadFormatError } from '../../services/ingest/reader/index.ts';
import { displayFileName, UploadStoreError } from '../../services/lib/upload-store.ts';
import type { GatewayEnv } from '../env.ts';
import { problem } from '../errors.ts';
import { fileFromMultipart, storeAndInspect, UploadRejected } from '../uploads/receive.ts';

/** Maps what can go wrong with an uploaded file to the contract's status codes (API.md). */
export function uploadProblem(err: unknown) {
  if (err instanceof UploadRejected) return problem(err.status, err.message);
  if (err instanceof UploadFormatError) return problem(422, err.detail);
  if (err instanceof UploadStoreError && err.code === 'too_large') return problem(413, err.message);
  return err;
}

/** Multipart, so it has no zod body validator (that would buffer the file); documented in openapi.ts. */
export const uploadRoutes = new Hono<GatewayEnv>().post('/upload', async (c) => {
  const { config, uploads, uploadIndex } = c.var.deps;
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > config.UPLOAD_MAX_BYTES + 64 * 1024) {
    throw problem(413, `the upload exceeds the limit of ${config.UPLOAD_MAX_BYTES} bytes`);
  }
  const accountId = c.var.user.account_id;
  try {
    const file = await fileFromMultipart(c.req.raw, config.UPLOAD_MAX_BYTES);
    const received = await storeAndInspect(uploads, accountId, displayFileName(file.filename), file.stream);
    const meta = {
      filename: received.filename,
      file_path: received.stored.file_path,
      size: received.stored.size,
      rows_detected: received.inspection.rows_detected,
      format: received.inspection.format,
      uploaded_at: new Date().toISOString(),
    };
    await uploadIndex.record(accountId, meta);
    return c.json(
      {
        filename: meta.filename,
        size: meta.size,
        file_path: meta.file_path,
        rows_detected: meta.rows_detected,
      },
      201,
    );
  } catch (err) {
    throw uploadProblem(err);
  }
});
