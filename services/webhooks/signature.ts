import { createHmac } from 'node:crypto';

/**
 * `X-Leedrush-Signature`: lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the endpoint's
 * secret as UTF-8 — what Python's `hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()` gives.
 */
export function signBody(secret: string, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The body of a delivery, serialised once: these bytes are signed and sent. */
export function deliveryBody(e: {
  event: string;
  batch_id: string | null;
  occurred_at: number;
  data_json: string;
}): Buffer {
  // data_json is already the JSON of the data object; it is spliced in as is so its bytes stay the
  // producer's, after a check that it really is JSON (a broken body must not be signed and sent).
  JSON.parse(e.data_json);
  const head = JSON.stringify({
    event: e.event,
    batch_id: e.batch_id,
    timestamp: new Date(e.occurred_at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  return Buffer.from(`${head.slice(0, -1)},"data":${e.data_json}}`);
}
