/**
 * Why a whole upload cannot be read. The gateway answers these with 422 and `detail`; the ingest phase
 * fails the batch with the same detail. Row-level problems are never errors: they become rejections.
 */
export type UploadErrorCode = 'empty_file' | 'unsupported_format' | 'no_email_column';

export class UploadFormatError extends Error {
  constructor(
    readonly code: UploadErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'UploadFormatError';
  }
}
