import type { Redis } from 'ioredis';

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

  async byName(accountId: string, filename: string): Promise<UploadMeta | null> {
    const path = await this.redis.hget(this.key('uploads-by-name', accountId), filename);
    return path ? this.byPath(accountId, path) : null;
  }
}
