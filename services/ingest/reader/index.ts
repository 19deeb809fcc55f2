/** The upload reader shared by the gateway (at upload time) and the ingest phase. */
export { type UploadErrorCode, UploadFormatError } from './errors.ts';
export type { UploadFormat } from './format.ts';
export { LEAD_FIELDS, type LeadField, leadFieldFor } from './headers.ts';
export { DECODE_WARNING_KEY } from './mapping.ts';
export { DEFAULT_MAX_RECORD_CHARS, type UnreadableReason } from './pieces.ts';
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
