import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import busboy from 'busboy';
import { inspectUpload, type UploadInspection } from '../../services/ingest/reader/index.ts';
import type { StoredUpload, UploadStore } from '../../services/lib/upload-store.ts';

export class UploadRejected extends Error {
  constructor(
    readonly status: 400 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

export interface ReceivedUpload {
  filename: string;
  stored: StoredUpload;
  inspection: UploadInspection;
}

/**
 * Streams one file through the reader's inspection while it is written to the store, so the file is read
 * once and never held in memory. If the inspection fails (no email column, not CSV/JSON) the store write
 * is aborted and nothing is left behind.
 */
export async function storeAndInspect(
  store: UploadStore,
  accountId: string,
  filename: string,
  source: AsyncIterable<Uint8Array>,
): Promise<ReceivedUpload> {
  const tap = new PassThrough();
  type Settled = { ok: true; value: UploadInspection } | { ok: false; error: unknown };
  const inspection: Promise<Settled> = inspectUpload(tap, { filename }).then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error }),
  );
  // The inspector may stop early (a binary file is recognised in its first bytes): stop writing then.
  let settled: Settled | undefined;
  void inspection.then((s) => {
    settled = s;
  });

  async function* teed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (settled && !settled.ok) throw settled.error;
      if (!tap.write(chunk)) await Promise.race([once(tap, 'drain'), inspection]);
      yield chunk;
    }
    tap.end();
    const result = await inspection;
    if (!result.ok) throw result.error;
  }

  const stored = await store.put(accountId, filename, teed()).finally(() => tap.destroy());
  const result = await inspection;
  if (!result.ok) throw result.error;
  return { filename, stored, inspection: result.value };
}

/** The single `file` part of a multipart/form-data request, as a byte stream. */
export async function fileFromMultipart(
  request: Request,
  maxBytes: number,
): Promise<{ filename: string; stream: AsyncIterable<Uint8Array> }> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data') || !request.body) {
    throw new UploadRejected(400, 'expected a multipart/form-data body with a "file" field');
  }
  const parser = busboy({
    headers: { 'content-type': contentType },
    limits: { files: 1, fileSize: maxBytes, fields: 20, parts: 25 },
  });
  const found = new Promise<{ filename: string; stream: AsyncIterable<Uint8Array> }>((resolve, reject) => {
    parser.on('file', (field, stream, info) => {
      if (field !== 'file') {
        stream.resume();
        return;
      }
      let truncated = false;
      stream.on('limit', () => {
        truncated = true;
      });
      // busboy truncates at the limit and ends the stream; the reader of this generator gets the 413.
      async function* bounded(): AsyncGenerator<Uint8Array> {
        for await (const chunk of stream) {
          if (truncated) break;
          yield chunk as Uint8Array;
        }
        if (truncated) throw new UploadRejected(413, `the upload exceeds the limit of ${maxBytes} bytes`);
      }
      resolve({ filename: info.filename || 'upload', stream: bounded() });
    });
    parser.on('error', (err) =>
      reject(new UploadRejected(400, `malformed multipart body: ${(err as Error).message}`)),
    );
    parser.on('close', () => reject(new UploadRejected(400, 'the multipart body has no "file" field')));
  });
  Readable.fromWeb(request.body as import('node:stream/web').ReadableStream).pipe(parser);
  return found;
}
