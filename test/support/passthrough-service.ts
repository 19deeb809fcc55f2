/**
 * A tiny phase service for the runtime's tests and benchmark, run as a child process like any real
 * service: RawLead → a StandardizedLead-shaped copy on leads.standardized. The email's local part steers
 * it: `reject…` rejects, `dlq…` asks for the DLQ, `flaky…` throws on the first attempt (then succeeds),
 * `broken…` always throws. Tuning comes from PASSTHROUGH_* environment variables.
 */
import type { LeadRejection, RawLead, StandardizedLead } from '../../schemas/generated.ts';
import { loadConfigOrExit } from '../../services/lib/config.ts';
import { TOPICS } from '../../services/lib/names.ts';
import { definePhase, dlq, ok, reject, runPhaseService } from '../../services/runtime/index.ts';

function copy(raw: RawLead, leadId: string): StandardizedLead {
  return {
    meta: {
      lead_id: leadId,
      account_id: raw.account_id,
      batch_id: raw.batch_id ?? 'stream',
      row_index: raw.row_index ?? 0,
      source: raw.source,
      received_at: raw.received_at,
    },
    lead: {
      email: raw.email,
      email_display: raw.email,
      first_name: raw.first_name,
      last_name: raw.last_name,
      full_name: raw.full_name,
      honorific: null,
      name_suffix: null,
      title_raw: raw.title,
      title_normalized: null,
      seniority: 'Unknown',
      department: 'Other',
      company_name: raw.company,
      company_key: null,
      domain: null,
      website: raw.website,
      country: raw.country,
      phone_e164: null,
      phone_raw: raw.phone,
      linkedin_url: raw.linkedin_url,
      city: raw.city,
      industry: raw.industry,
      employees: raw.employees,
      extras: raw.extras,
    },
  };
}

const leadIdOf = (raw: RawLead) => `${raw.batch_id ?? 'stream'}:${raw.row_index ?? 0}`;

export const passthrough = definePhase<RawLead, StandardizedLead>({
  name: 'passthrough',
  input: { topic: TOPICS.raw, record: 'RawLead' },
  output: { topic: TOPICS.standardized, record: 'StandardizedLead' },
  keyOf: (out) => out.meta.lead_id,
  phase: (raw, ctx) => {
    const local = raw.email?.split('@')[0] ?? '';
    if (local.startsWith('reject')) return reject('test_reject', `asked to reject ${raw.email}`);
    if (local.startsWith('dlq')) return dlq(`asked for the DLQ by ${raw.email}`);
    if (local.startsWith('flaky') && ctx.attempt === 0) throw new Error('flaky dependency timed out');
    if (local.startsWith('broken')) throw new Error('dependency is down');
    return ok(copy(raw, leadIdOf(raw)));
  },
  rejectionOf: (raw, reason, detail, ctx): LeadRejection => ({
    lead_id: leadIdOf(raw),
    account_id: raw.account_id,
    batch_id: raw.batch_id ?? 'stream',
    row_index: raw.row_index,
    line_number: null,
    phase: ctx.phase,
    reason,
    detail,
    original: { email: raw.email ?? '' },
    rejected_at: Date.now(),
  }),
});

const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

const service = await runPhaseService(passthrough, {
  config: loadConfigOrExit(),
  partitionsConsumedConcurrently: env('PASSTHROUGH_PARTITIONS_CONCURRENTLY'),
  maxBytesPerPartition: env('PASSTHROUGH_MAX_BYTES_PER_PARTITION'),
  maxBytes: env('PASSTHROUGH_MAX_BYTES'),
});
await service.ready;
// The test harness waits for this line before producing or killing.
process.stdout.write(`${JSON.stringify({ ready: true, port: service.port })}\n`);
