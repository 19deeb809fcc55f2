import type { StandardizedLead, Verification, VerifiedLead } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok, type PhaseResult } from '../runtime/result.ts';
import type { VerifyContext } from './context.ts';
import { type EmailVerdict, verifyEmail } from './email.ts';
import type { VerifyMetrics } from './metrics.ts';
import { applyLineCheck, classifyPhone, type PhoneVerdict, worthLineCheck } from './phone.ts';

/**
 * Attempts the runtime gives a lead whose domain DNS did not answer for. An answer changes the verdict
 * (and so whether the lead qualifies), and a lost reply is common on a busy resolver: measured on the
 * benchmark with both cores busy, 13–20 of 30,000 leads timed out once and came out differently from
 * run to run. So the first attempts throw, for the runtime to retry after its backoff; the last settles
 * on `unknown`, so a resolver that stays down slows the phase but does not stop it.
 */
export const DNS_ATTEMPTS = 3;

/**
 * Phase 3: annotates a standardized lead with email and phone verdicts. It never drops or rejects a
 * lead (scoring decides); SMTP trouble becomes `unknown`, and so does DNS that stays silent through
 * DNS_ATTEMPTS; infrastructure failures (Redis) throw, so the runtime retries the lead. `attempt` is
 * the runtime's (0 first); without it the lead settles at once.
 */
export async function verifyLead(
  input: StandardizedLead,
  ctx: VerifyContext,
  attempt = DNS_ATTEMPTS - 1,
): Promise<PhaseResult<VerifiedLead>> {
  const [email, phone] = await Promise.all([
    verifyEmail(
      input.lead.email,
      { route: (d) => ctx.routes.route(d), resolveHost: (h) => ctx.routes.addresses(h), probe: ctx.probe },
      ctx.probeFor(input.meta),
    ),
    verifyPhone(input.lead.phone_e164, input.lead.phone_raw, ctx),
  ]);
  if (email.dnsUnanswered && attempt < DNS_ATTEMPTS - 1) {
    throw new Error(`${email.reason}; lead ${input.meta.lead_id} is tried again`);
  }
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
    phase: async (input, run) => {
      const result = await verifyLead(input, ctx, run.attempt);
      if (result.kind === 'ok') metrics?.record(result.value.verification);
      return result;
    },
  });
}
