/**
 * Where an enriched value came from, as every output names it: `Enrichment.field_sources`, the lead
 * objects of `leedrush run` and of the API download (`provenance`, and the `*_source` CSV columns), and
 * the `sources` of the multi-source endpoint.
 *
 * | label                                       | kind      | the value is                                   |
 * | ------------------------------------------- | --------- | ---------------------------------------------- |
 * | `input`                                     | input     | the lead's own (its file, or a field derived from it) |
 * | `dns`                                       | dns       | read from the domain's real MX/TXT records     |
 * | `apollo_io`, `clearbit`, `hunter_io`, `snov_io` | provider | a real provider's answer (live or cached)  |
 * | `sandbox:apollo_io`, `sandbox:clearbit`, …  | sandbox   | invented by the sandbox provider of that shape |
 *
 * A sandbox value can therefore never pass as real: its label says so wherever it goes.
 */

/** Internal provider names → the names the public API uses (API.md, multi-source `sources`). */
export const PROVIDER_LABEL = {
  apollo: 'apollo_io',
  clearbit: 'clearbit',
  hunter: 'hunter_io',
  snov: 'snov_io',
} as const;

export type ProvenanceKind = 'input' | 'dns' | 'provider' | 'sandbox';

export const SANDBOX_PREFIX = 'sandbox:';

/** The label of a provider's answer: its API name, prefixed `sandbox:` when the sandbox gave it. */
export function providerLabel(provider: keyof typeof PROVIDER_LABEL, sandbox: boolean): string {
  return `${sandbox ? SANDBOX_PREFIX : ''}${PROVIDER_LABEL[provider]}`;
}

export function provenanceKind(label: string): ProvenanceKind {
  if (label === 'input' || label === 'dns') return label;
  return label.startsWith(SANDBOX_PREFIX) ? 'sandbox' : 'provider';
}
