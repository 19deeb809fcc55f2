import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchRequest } from '../../schemas/generated.ts';
import { BatchTracker } from '../../services/lib/batch-tracker.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { testGateway } from '../support/gateway.ts';

const gw = await testGateway('gwbatch', { UPLOAD_MAX_BYTES: String(1024 * 1024) });
afterAll(() => gw.close());

const csv = (rows: number) =>
  [
    'Email Address,First Name,Surname,Company Name',
    ...Array.from({ length: rows }, (_, i) => `p${i}@acme.io,Pat,Doe${i},Acme Inc`),
  ].join('\n');

type Json = Record<string, unknown>;

/** The batch requests on the topic, read from its start until every one of `batchIds` was seen. */
async function readBatchRequests(batchIds: string[]): Promise<BatchRequest[]> {
  const kafka = new kafkajs.Kafka({ brokers: gw.config.KAFKA_BROKERS, logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${gw.config.LEEDRUSH_PREFIX}.test-reader` });
  const decoder = new AvroCodec(registrySchemaSource(gw.config.SCHEMA_REGISTRY_URL)).decoderFor<BatchRequest>(
    'BatchRequest',
  );
  const got: BatchRequest[] = [];
  await consumer.connect();
  await consumer.subscribe({
    topic: topicName(gw.config.LEEDRUSH_PREFIX, TOPICS.batchRequests),
    fromBeginning: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`saw ${got.length} batch requests, not all of ${batchIds.join(', ')}`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        await decoder.prepare([message.value]);
        const d = decoder.decode(message.value);
        if (d.ok) got.push(d.value);
        if (batchIds.every((id) => got.some((r) => r.batch_id === id))) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

describe('uploads', () => {
  it('stores a CSV and reports rows_detected and a logical file_path', async () => {
    const { token } = await gw.signUp();
    const res = await gw.upload(token, 'my leads.csv', csv(25));
    expect(res.status).toBe(201);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ filename: 'my leads.csv', rows_detected: 25, size: csv(25).length });
    expect(body.file_path).toMatch(/^\/uploads\/my_leads_\d{4}-\d{2}-\d{2}_[0-9a-f]+\.csv$/);
  });

  it('keeps hostile file names from the file system and from what it reports', async () => {
    const { token, accountId, userId } = await gw.signUp();
    // Enterprise: no concurrent-batch limit between the many batches started below.
    await gw.deps.redis.hset(gw.deps.key('user', userId), 'plan_id', 'enterprise');
    /** name as sent → the name reported back (null: only checked to be safe). */
    const names: Array<[string, string | null]> = [
      ['../../../etc/passwd.csv', 'passwd.csv'],
      ['..\\..\\windows\\system32\\evil.csv', 'evil.csv'],
      ['/etc/cron.d/job.csv', 'job.csv'],
      ['%2e%2e%2f%2e%2e%2fetc.csv', '%2e%2e%2f%2e%2e%2fetc.csv'],
      ['nul\u0000byte.csv', 'nulbyte.csv'],
      ['line\r\nX-Injected: 1.csv', 'lineX-Injected: 1.csv'],
      ['\u001b[31mred\u001b[0m.csv', '[31mred[0m.csv'],
      ['bell\u0007tab\tdel\u007f c1\u0085.csv', 'belltabdel c1.csv'],
      ['invoice\u202egpj.csv', 'invoicegpj.csv'],
      ['zero\u200bwidth\ufeff.csv', 'zerowidth.csv'],
      ['.htaccess.csv', 'htaccess.csv'],
      ['...', 'upload'],
      ['CON.csv', 'CON.csv'],
      ['\uff0e\uff0e\uff0fwide.csv', null],
      ['caf\u0065\u0301 leads.csv', 'caf\u00e9 leads.csv'],
      [`${'x'.repeat(1_000)}.csv`, null],
    ];
    const boundary = 'hostileNameBoundary';
    for (const [name, shown] of names) {
      // RFC 5987 filename*: every byte of the name reaches the server as sent, controls included.
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(name)}\r\n` +
            `content-type: text/csv\r\n\r\nemail\r\np@acme.io\r\n--${boundary}--\r\n`,
        ),
      ]);
      const res = await gw.app.request('/api/upload', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        body,
      });
      expect(res.status, JSON.stringify(name)).toBe(201);
      const up = (await res.json()) as { filename: string; file_path: string };
      // Stored: one safe segment in the account's own folder.
      expect(up.file_path, JSON.stringify(name)).toMatch(
        /^\/uploads\/[A-Za-z0-9_-]{1,80}_\d{4}-\d{2}-\d{2}_[0-9a-f]{8}(\.csv)?$/,
      );
      // ... under which ingest opens it again (a device name once was stored where open() refused it).
      await expect(gw.deps.uploads.stat(accountId, up.file_path), up.file_path).resolves.toMatchObject({
        size: 'email\r\np@acme.io'.length,
      });
      // Reported: readable, one segment, nothing that steers a terminal, a header or the text direction.
      expect(up.filename, JSON.stringify(name)).not.toMatch(/[\p{Cc}\p{Cf}/\\\u2028\u2029]/u);
      expect([...up.filename].length).toBeLessThanOrEqual(255);
      if (shown !== null) expect(up.filename).toBe(shown);
      // POST /process by the name as the client knows it finds that upload.
      const started = await gw.json('POST', '/process', { filename: name }, token);
      expect(started.status, JSON.stringify(name)).toBe(201);
      expect(((await started.json()) as Json).filename).toBe(up.filename);
    }
    // Nothing was written anywhere but the account's folder, and nothing there is a hidden or temporary file.
    const root = gw.config.UPLOAD_DIR;
    // (Other tests of this file have folders of their own accounts there too.)
    const top = readdirSync(root, { withFileTypes: true });
    expect(top.every((d) => d.isDirectory() && /^acc_[0-9a-f]+$/.test(d.name))).toBe(true);
    expect(top.map((d) => d.name)).toContain(accountId);
    const files = readdirSync(join(root, accountId), { withFileTypes: true });
    expect(files.every((f) => f.isFile() && !f.name.startsWith('.'))).toBe(true);
    expect(files).toHaveLength(names.length);
    expect(existsSync(join(dirname(root), 'etc'))).toBe(false);
    expect(readdirSync(dirname(root)).filter((n) => /^(passwd|evil|job)[._]/.test(n))).toEqual([]);
  });

  it('answers 422 with a detail for a file without an email column, a binary file and an empty file', async () => {
    const { token } = await gw.signUp();
    const noEmail = await gw.upload(token, 'x.csv', 'name,company\nPat,Acme\n');
    expect(noEmail.status).toBe(422);
    expect(((await noEmail.json()) as Json).detail).toMatch(/email/i);
    const pdf = await gw.upload(
      token,
      'x.pdf',
      new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0, 1, 2, 3]),
    );
    expect(pdf.status).toBe(422);
    const empty = await gw.upload(token, 'x.csv', '');
    expect(empty.status).toBe(422);
    expect(await empty.json()).toHaveProperty('detail');
  });

  it('answers 413 above the configured size and keeps nothing', async () => {
    const { token, accountId } = await gw.signUp();
    const big = `email\n${'a@b.co\n'.repeat(200_000)}`;
    const res = await gw.upload(token, 'big.csv', big);
    expect(res.status).toBe(413);
    expect(await res.json()).toHaveProperty('detail');
    const missing = await gw.json('POST', '/process', { filename: 'big.csv' }, token);
    expect(missing.status).toBe(404);
    expect(accountId).toMatch(/^acc_/);
  });

  it('answers 400 for a body that is not multipart', async () => {
    const { token } = await gw.signUp();
    const res = await gw.json('POST', '/upload', { file: 'x' }, token);
    expect(res.status).toBe(400);
  });
});

describe('processing and batches', () => {
  it('queues a batch, publishes the request to Kafka and lists it', async () => {
    const { token, accountId } = await gw.signUp();
    await gw.upload(token, 'leads.csv', csv(10));
    const res = await gw.json('POST', '/process', { filename: 'leads.csv' }, token);
    expect(res.status).toBe(201);
    const started = (await res.json()) as Json;
    expect(started).toMatchObject({ status: 'queued', filename: 'leads.csv', rows_total: 10 });
    expect(started.batch_id).toMatch(/^batch_[0-9a-f]{12}$/);

    const pushed = await gw.json(
      'POST',
      '/leads',
      { leads: [{ email: 'a@b.io', name: 'Al B' }, { email: 'c@d.io' }] },
      token,
    );
    expect(pushed.status).toBe(201);
    const api = (await pushed.json()) as Json;
    expect(api).toMatchObject({ status: 'queued', rows_total: 2 });

    const requests = await readBatchRequests([String(started.batch_id), String(api.batch_id)]);
    const fileReq = requests.find((r) => r.batch_id === started.batch_id);
    expect(fileReq).toMatchObject({
      account_id: accountId,
      filename: 'leads.csv',
      format: 'csv',
      rows_total: 10,
    });
    expect(requests.find((r) => r.batch_id === api.batch_id)).toMatchObject({
      source: 'api',
      format: 'ndjson',
      rows_total: 2,
    });

    const list = (await (await gw.json('GET', '/batches', undefined, token)).json()) as Json[];
    expect(Array.isArray(list)).toBe(true);
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({
      batch_id: started.batch_id,
      status: 'queued',
      rows_qualified: 0,
      quality_yield: 0,
    });

    const detail = await gw.json('GET', `/batches/${started.batch_id}`, undefined, token);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      batch_id: started.batch_id,
      leads_processed: 0,
      phase3_metrics: {
        cache_hit_rate: 0,
        predictive_matches: 0,
        multi_source_validated: 0,
        avg_confidence: 0,
      },
    });
  });

  it('lists what the pipeline changed since the last list, written through another connection', async () => {
    const { token, accountId } = await gw.signUp();
    await gw.upload(token, 'leads.csv', csv(4));
    const started = (await (
      await gw.json('POST', '/process', { filename: 'leads.csv' }, token)
    ).json()) as Json;
    const id = started.batch_id as string;
    const list = async () => (await (await gw.json('GET', '/batches', undefined, token)).json()) as Json[];
    expect(await list()).toMatchObject([{ batch_id: id, status: 'queued' }]);
    expect(await list()).toMatchObject([{ batch_id: id, status: 'queued' }]);

    // The sink's own tracker on its own connection, as in another process.
    const sinkRedis = createRedis(gw.config.REDIS_URL, 'test-sink');
    const sink = new BatchTracker(sinkRedis, keyspace(gw.config.LEEDRUSH_PREFIX));
    try {
      await sink.start(id, accountId);
      expect(await list()).toMatchObject([{ batch_id: id, status: 'processing' }]);
      await sink.recordTerminals(id, accountId, [
        { row: 0, outcome: 'qualified' },
        { row: 1, outcome: 'duplicate' },
      ]);
      expect(await list()).toMatchObject([
        { batch_id: id, status: 'processing', rows_qualified: 1, rows_duplicate: 1, quality_yield: 25 },
      ]);
      // Redelivered rows change nothing; the list stays the same.
      await sink.recordTerminals(id, accountId, [{ row: 0, outcome: 'qualified' }]);
      expect(await list()).toMatchObject([{ rows_qualified: 1, rows_duplicate: 1 }]);
      // Polls arriving after a change never get a list read before it, even while one is being read.
      const polling = Array.from({ length: 10 }, () => list());
      await sink.recordTerminals(id, accountId, [{ row: 2, outcome: 'qualified' }]);
      const after = await Promise.all(Array.from({ length: 10 }, () => list()));
      for (const l of after) expect(l).toMatchObject([{ rows_qualified: 2, rows_duplicate: 1 }]);
      await Promise.all(polling);
      await sink.fail(id, accountId, 'file unreadable');
      expect(await list()).toMatchObject([
        { batch_id: id, status: 'failed', error_reason: 'file unreadable' },
      ]);
      const stream = await sink.recordTerminals(
        'stream_x',
        accountId,
        [{ row: 'lead-1', outcome: 'qualified' }],
        {
          openStream: true,
        },
      );
      expect(stream.state).toBe('counted');
      expect((await list()).map((b) => b.batch_id)).toEqual(['stream_x', id]);
    } finally {
      sinkRedis.disconnect();
    }
  });

  it('pages with the envelope and rejects bad query parameters with 400', async () => {
    const { token } = await gw.signUp();
    await gw.upload(token, 'a.csv', csv(3));
    for (let i = 0; i < 3; i++)
      expect((await gw.json('POST', '/process', { filename: 'a.csv' }, token)).status).toBe(201);
    const page = (await (
      await gw.json('GET', '/batches?limit=2&sort=rows_total&order=asc', undefined, token)
    ).json()) as Json;
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 0, has_more: true });
    expect(page.items).toHaveLength(2);
    const last = (await (await gw.json('GET', '/batches?offset=2', undefined, token)).json()) as Json;
    expect(last).toMatchObject({ total: 3, offset: 2, has_more: false });
    for (const bad of ['sort=name', 'order=up', 'limit=0', 'limit=101', 'offset=-1', 'limit=abc']) {
      const res = await gw.json('GET', `/batches?${bad}`, undefined, token);
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toHaveProperty('detail');
    }
  });

  it('enforces the plan: 403 over max rows, 429 with Retry-After over concurrent batches', async () => {
    const { token } = await gw.signUp();
    await gw.upload(token, 'huge.csv', csv(10_001));
    const over = await gw.json('POST', '/process', { filename: 'huge.csv' }, token);
    expect(over.status).toBe(403);
    expect(((await over.json()) as Json).detail).toMatch(/10000/);
    await gw.upload(token, 'ok.csv', csv(1));
    for (let i = 0; i < 3; i++)
      expect((await gw.json('POST', '/process', { filename: 'ok.csv' }, token)).status).toBe(201);
    const busy = await gw.json('POST', '/process', { filename: 'ok.csv' }, token);
    expect(busy.status).toBe(429);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("never shows, processes or guesses another tenant's files and batches (404)", async () => {
    const alice = await gw.signUp();
    const mallory = await gw.signUp();
    const up = (await (await gw.upload(alice.token, 'secret.csv', csv(2))).json()) as Json;
    const started = (await (
      await gw.json('POST', '/process', { filename: 'secret.csv' }, alice.token)
    ).json()) as Json;
    expect((await gw.json('GET', `/batches/${started.batch_id}`, undefined, mallory.token)).status).toBe(404);
    expect((await gw.json('POST', '/process', { filename: 'secret.csv' }, mallory.token)).status).toBe(404);
    expect((await gw.json('POST', '/process', { file_path: up.file_path }, mallory.token)).status).toBe(404);
    expect(
      (
        await gw.json(
          'POST',
          '/process',
          { file_path: `/uploads/../${alice.accountId}/x.csv` },
          mallory.token,
        )
      ).status,
    ).toBe(404);
    expect(await (await gw.json('GET', '/batches', undefined, mallory.token)).json()).toEqual([]);
  });

  it('validates bodies: 400 for missing fields and malformed JSON, 401 without a token', async () => {
    const { token } = await gw.signUp();
    expect((await gw.json('POST', '/process', {}, token)).status).toBe(400);
    expect((await gw.json('POST', '/process', '{"filename":', token)).status).toBe(400);
    expect((await gw.json('POST', '/leads', { leads: [] }, token)).status).toBe(400);
    expect((await gw.json('POST', '/leads', { leads: 'x' }, token)).status).toBe(400);
    expect((await gw.json('GET', '/batches')).status).toBe(401);
    const unknown = await gw.json('GET', '/nope', undefined, token);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toHaveProperty('detail');
  });
});
