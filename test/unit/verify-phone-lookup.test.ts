import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLineCheck, classifyPhone } from '../../services/verify/phone.ts';
import { PhoneLookupClient } from '../../services/verify/phone-lookup.ts';

// A local HTTP server speaking the Twilio Lookup v2 shape: GET /v2/PhoneNumbers/{E164}
// ?Fields=line_type_intelligence with basic auth, answering per number.
const SID = 'AC00000000000000000000000000000000';
const TOKEN = 'test-token';

type Seen = { path: string; fields: string | null; auth: string | undefined };
const seen: Seen[] = [];
let server: Server;
let baseUrl: string;

const ANSWERS: Record<string, { status: number; body?: unknown; delayMs?: number }> = {
  '+447911123456': { status: 200, body: twilio('+447911123456', { type: 'mobile', error_code: null }) },
  '+14155550100': { status: 200, body: twilio('+14155550100', { type: 'landline', error_code: null }) },
  '+12015550123': { status: 200, body: twilio('+12015550123', { type: 'nonFixedVoip', error_code: null }) },
  '+33612345678': { status: 200, body: twilio('+33612345678', { type: null, error_code: 60600 }) },
  '+4915112345678': { status: 200, body: { ...twilio('+4915112345678', null), valid: false } },
  '+61412345678': { status: 500, body: { code: 20500, message: 'Internal Server Error' } },
  '+819012345678': {
    status: 200,
    body: twilio('+819012345678', { type: 'mobile', error_code: null }),
    delayMs: 2_000,
  },
  '+34612345678': { status: 200, body: twilio('+34612345678', { type: 'unknown', error_code: null }) },
};

function twilio(e164: string, lti: { type: string | null; error_code: number | null } | null) {
  return {
    calling_country_code: '1',
    country_code: 'US',
    phone_number: e164,
    national_format: e164,
    valid: true,
    validation_errors: [],
    caller_name: null,
    line_type_intelligence: lti && {
      carrier_name: null,
      mobile_country_code: null,
      mobile_network_code: null,
      ...lti,
    },
    url: `https://lookups.example/v2/PhoneNumbers/${e164}`,
  };
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      path: url.pathname,
      fields: url.searchParams.get('Fields'),
      auth: req.headers.authorization,
    });
    const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":20003}');
      return;
    }
    const e164 = decodeURIComponent(url.pathname.replace('/v2/PhoneNumbers/', ''));
    const answer = ANSWERS[e164] ?? { status: 404, body: { code: 20404, message: 'not found' } };
    setTimeout(() => {
      if (!res.destroyed)
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    }, answer.delayMs ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const client = (over: Partial<{ token: string; timeoutMs: number }> = {}) =>
  new PhoneLookupClient({ baseUrl, sid: SID, token: over.token ?? TOKEN, timeoutMs: over.timeoutMs ?? 500 });

async function verify(e164: string, c = client()) {
  return applyLineCheck(classifyPhone(e164, e164), await c.check(e164));
}

describe('Twilio Lookup v2 line status', () => {
  it('asks for line_type_intelligence of the E.164 number with basic auth', async () => {
    await client().check('+447911123456');
    expect(seen.at(-1)).toEqual({
      path: '/v2/PhoneNumbers/%2B447911123456',
      fields: 'line_type_intelligence',
      auth: `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`,
    });
  });

  it('a mobile line is mobile_active', async () => {
    expect(await verify('+447911123456')).toMatchObject({ status: 'mobile_active', lineType: 'mobile' });
  });

  it("the carrier's type replaces the metadata's fixed-line-or-mobile guess", async () => {
    expect(classifyPhone('+14155550100', null).lineType).toBe('fixed_line_or_mobile');
    expect(await verify('+14155550100')).toMatchObject({ status: 'landline_valid', lineType: 'fixed_line' });
    expect(await verify('+12015550123')).toMatchObject({ status: 'voip_valid', lineType: 'voip' });
  });

  it('error 60600 (unprovisioned) is disconnected', async () => {
    expect(await verify('+33612345678')).toMatchObject({ status: 'disconnected', lineType: 'mobile' });
  });

  it('valid: false from the provider is invalid', async () => {
    expect((await verify('+4915112345678')).status).toBe('invalid');
  });

  it('an HTTP error, an unknown type or bad credentials keep the metadata verdict', async () => {
    expect(await client().check('+61412345678')).toEqual({ outcome: 'unavailable', reason: 'HTTP 500' });
    expect(await verify('+61412345678')).toMatchObject({ status: 'mobile_valid', lineType: 'mobile' });
    expect(await verify('+34612345678')).toMatchObject({ status: 'mobile_valid', lineType: 'mobile' });
    expect(await verify('+447911123456', client({ token: 'wrong' }))).toMatchObject({
      status: 'mobile_valid',
    });
  });

  it('a slow provider is abandoned at the timeout and the metadata verdict stands', async () => {
    const started = performance.now();
    const check = await client({ timeoutMs: 300 }).check('+819012345678');
    const ms = performance.now() - started;
    expect(check).toEqual({ outcome: 'unavailable', reason: 'no answer within 300 ms' });
    expect(ms).toBeLessThan(300 + 250);
  });

  it('an unreachable provider is unavailable, not an exception', async () => {
    const dead = new PhoneLookupClient({
      baseUrl: 'http://127.0.0.1:1',
      sid: SID,
      token: TOKEN,
      timeoutMs: 500,
    });
    expect((await dead.check('+447911123456')).outcome).toBe('unavailable');
  });
});
