import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';
import { UploadStoreSettings } from '../lib/upload-store.ts';
import { DEFAULT_MAX_RECORD_CHARS } from './reader/index.ts';

export const IngestConfig = BaseConfig.extend(UploadStoreSettings.shape).extend({
  /** Longest CSV record / JSON element read, in characters; longer ones become rejections. */
  INGEST_MAX_RECORD_CHARS: z.coerce.number().int().min(1024).default(DEFAULT_MAX_RECORD_CHARS),
});
export type IngestConfig = z.infer<typeof IngestConfig>;
