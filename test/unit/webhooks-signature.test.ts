import { describe, expect, it } from 'vitest';
import { deliveryBody, signBody } from '../../services/webhooks/signature.ts';

describe('signBody', () => {
  it('is the lowercase hex HMAC-SHA256 of the bytes (RFC 4231 test case 2)', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('signs the exact bytes: one changed byte or key changes the signature', () => {
    const body = Buffer.from('{"event":"batch.completed","data":{"n":1}}');
    const sig = signBody('whsec_x', body);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    const changed = Buffer.from(body);
    changed[changed.length - 3] = '2'.charCodeAt(0);
    expect(signBody('whsec_x', changed)).not.toBe(sig);
    expect(signBody('whsec_y', body)).not.toBe(sig);
    // Same JSON value, other bytes (a space): another signature, so receivers must hash the raw body.
    expect(signBody('whsec_x', '{"event": "batch.completed","data":{"n":1}}')).not.toBe(sig);
  });

  it('keys with the secret as UTF-8, like secret.encode() in Python', () => {
    // python3 -c "import hmac,hashlib; print(hmac.new('clé'.encode(), b'x', hashlib.sha256).hexdigest())"
    expect(signBody('clé', 'x')).toBe('522c16daef74b8d66aa5e041f7b0a331ced5c85d63a5c1fedbdb644bef7ca4bb');
  });
});

describe('deliveryBody', () => {
  const event = {
    event: 'batch.completed',
    batch_id: 'batch_a1b2c3d4',
    occurred_at: Date.UTC(2026, 2, 21, 11, 0, 0, 123),
    data_json: '{"filename":"leads.csv","rows_total":500,"quality_yield":76.4}',
  };

  it('is {"event","batch_id","timestamp","data"} with data spliced in byte for byte', () => {
    expect(deliveryBody(event).toString()).toBe(
      '{"event":"batch.completed","batch_id":"batch_a1b2c3d4","timestamp":"2026-03-21T11:00:00Z",' +
        '"data":{"filename":"leads.csv","rows_total":500,"quality_yield":76.4}}',
    );
  });

  it('keeps a null batch_id and non-ASCII data as UTF-8', () => {
    const body = deliveryBody({ ...event, batch_id: null, data_json: '{"name":"Zoë"}' });
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      event: 'batch.completed',
      batch_id: null,
      timestamp: '2026-03-21T11:00:00Z',
      data: { name: 'Zoë' },
    });
    expect(body.includes(Buffer.from('Zoë', 'utf8'))).toBe(true);
  });

  it('refuses data that is not JSON rather than sign a broken body', () => {
    expect(() => deliveryBody({ ...event, data_json: '{"a":' })).toThrow();
  });
});
