import type { StandardizedLead, Verification, VerifiedLead } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok, type PhaseResult } from '../runtime/result.ts';
import type { VerifyContext } from './context.ts';
import { type EmailVerdict, verifyEmail } from './email.ts';
import type { VerifyMetrics } from './metrics.ts';
import { applyLineCheck, classifyPhone, type PhoneVerdict, worthLineCheck } from './phone.ts';

/**
 * Phase 3: annotates a standardized lead with email and phone verdicts. It never drops or rejects a
 * lead (scoring decides); DNS and SMTP trouble becomes `unknown`; only infrastructure failures
 * (Redis) throw, so the runtime retries the lead.
 */
export async function verifyLead(
  input: StandardizedLead,
  ctx: VerifyContext,
): Promise<PhaseResult<VerifiedLead>> {
  const [email, phone] = await Promise.all([
    verifyEmail(
      input.lead.email,
      { route: (d) => ctx.routes.route(d), resolveHost: (h) => ctx.routes.addresses(h), probe: ctx.probe },
      ctx.probeFor(input.meta),
    ),
    verifyPhone(input.lead.phone_e164, input.lead.phone_raw, ctx),
  ]);
  return ok({ meta: input.meta, lead: input.lead, verification: toVerification(email, phone) });
}

async function verifyPhone(
  e164: string | null,
  raw: string | null,
  ctx: VerifyContext,
): Promise<PhoneVerdict> {
  const verdict = classifyPhone(e164, raw);
  if (!ctx.phoneLookup || !worthLineCheck(verdict)) return verdict;
  return applyLineCheck(verdict, await ctx.phoneLookup.check(verdict.e164));
}

function toVerification(email: EmailVerdict, phone: PhoneVerdict): Verification {
  return {
    email_status: email.status,
    email_reason: email.reason,
    email_free_provider: email.freeProvider,
    email_role: email.role,
    email_disposable: email.disposable,
    email_suggestion: email.suggestion,
    mx_hosts: email.mxHosts,
    phone_status: phone.status,
    phone_line_type: phone.lineType,
  };
}

/** The phase as the runtime (Kafka service or embedded chain) runs it; metrics are optional. */
export function verifyPhase(ctx: VerifyContext, metrics?: VerifyMetrics) {
  return definePhase<StandardizedLead, VerifiedLead>({
    name: 'verify',
    input: { topic: TOPICS.standardized, record: 'StandardizedLead' },
    output: { topic: TOPICS.verified, record: 'VerifiedLead' },
    phase: async (input) => {
      const result = await verifyLead(input, ctx);
      if (result.kind === 'ok') metrics?.record(result.value.verification);
      return result;
    },
  });
}
