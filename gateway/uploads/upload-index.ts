import type { Redis } from 'ioredis';
import { displayFileName } from '../../services/lib/upload-store.ts';

export interface UploadMeta {
  filename: string;
  file_path: string;
  size: number;
  rows_detected: number;
  format: string;
  uploaded_at: string;
}

/**
 * What the gateway remembers of each stored upload, per account: by logical path, and the latest
 * path per original file name (POST /api/process {"filename"} takes the most recent upload of it).
 */
export class UploadIndex {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  async record(accountId: string, meta: UploadMeta): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('upload', accountId, meta.file_path), JSON.stringify(meta))
      .hset(this.key('uploads-by-name', accountId), meta.filename, meta.file_path)
      .exec();
  }

  async byPath(accountId: string, filePath: string): Promise<UploadMeta | null> {
    const raw = await this.redis.get(this.key('upload', accountId, filePath));
    return raw ? (JSON.parse(raw) as UploadMeta) : null;
  }

  /** By the name as the client sent it: reduced as the upload's was (displayFileName), so both meet. */
  async byName(accountId: string, filename: string): Promise<UploadMeta | null> {
    const path = await this.redis.hget(this.key('uploads-by-name', accountId), displayFileName(filename));
    return path ? this.byPath(accountId, path) : null;
  }
}
