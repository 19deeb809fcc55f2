/**
 * Line status from a Twilio Lookup v2 compatible provider:
 * `GET {base}/v2/PhoneNumbers/{E.164}?Fields=line_type_intelligence` with HTTP basic auth (account SID,
 * auth token). The answer's `line_type_intelligence.type` is the carrier's view of the line
 * (mobile, landline, fixedVoip, nonFixedVoip, tollFree, premium, sharedCost, personal, uan, voicemail,
 * pager, unknown); its `error_code` 60600 means unprovisioned or out of coverage — no line behind the
 * number; `valid: false` means the provider cannot parse it as a number.
 */
export type LineCheck =
  | { outcome: 'typed'; providerType: string }
  | { outcome: 'disconnected' }
  | { outcome: 'invalid' }
  /** The provider could not say (timeout, HTTP error, quota, unknown type): keep the metadata verdict. */
  | { outcome: 'unavailable'; reason: string };

export type PhoneLookupOptions = { baseUrl: string; sid: string; token: string; timeoutMs: number };

const UNPROVISIONED = 60600;

type LookupBody = {
  valid?: boolean;
  line_type_intelligence?: { type?: string | null; error_code?: number | null } | null;
};

export class PhoneLookupClient {
  private readonly auth: string;

  constructor(private readonly options: PhoneLookupOptions) {
    this.auth = `Basic ${Buffer.from(`${options.sid}:${options.token}`).toString('base64')}`;
  }

  async check(e164: string): Promise<LineCheck> {
    const url = new URL(`v2/PhoneNumbers/${encodeURIComponent(e164)}`, withSlash(this.options.baseUrl));
    url.searchParams.set('Fields', 'line_type_intelligence');
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: this.auth, accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      return unavailable(
        e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : e.message,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      return res.status === 404 ? { outcome: 'invalid' } : unavailable(`HTTP ${res.status}`);
    }
    let body: LookupBody;
    try {
      body = (await res.json()) as LookupBody;
    } catch {
      return unavailable('answer is not JSON');
    }
    if (body.valid === false) return { outcome: 'invalid' };
    const lti = body.line_type_intelligence;
    if (lti?.error_code === UNPROVISIONED) return { outcome: 'disconnected' };
    if (lti?.error_code) return unavailable(`line type error ${lti.error_code}`);
    if (!lti?.type || lti.type === 'unknown') return unavailable('line type unknown');
    return { outcome: 'typed', providerType: lti.type };
  }
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

function unavailable(reason: string): LineCheck {
  return { outcome: 'unavailable', reason };
}
