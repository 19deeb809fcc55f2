/** The upload reader shared by the gateway (at upload time) and the ingest phase. */

export { DEFAULT_MAX_FIELD_CHARS } from './cells.ts';
export { type UploadErrorCode, UploadFormatError } from './errors.ts';
export type { UploadFormat } from './format.ts';
export { LEAD_FIELDS, type LeadField, leadFieldFor } from './headers.ts';
export { DEFAULT_MAX_RECORD_CHARS, UNREADABLE_REASONS, type UnreadableReason } from './pieces.ts';
export {
  inspectUpload,
  type OpenedUpload,
  openUpload,
  type ReaderItem,
  type ReaderOptions,
  type ReaderRejection,
  type ReaderRow,
  type UploadInspection,
} from './reader.ts';
