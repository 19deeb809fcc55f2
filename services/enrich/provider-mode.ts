/**
 * Which providers an enrich context asks, decided once from the settings, the same way for the enrich
 * service, the gateway's multi-source endpoint and `leedrush run`:
 *
 * - `ENRICH_SANDBOX` on → the sandbox at `ENRICH_SANDBOX_URL`, all four providers, every value it supplies
 *   labelled `sandbox:<provider>`. The only way sandbox data reaches a lead.
 * - else the providers with a real key (a sandbox key, as older `.stack/env` files carry, is not one);
 * - else none: leads keep their own values, DNS technographics and cached real answers.
 */
import type { EnrichCoreSettings } from './config.ts';
import { SANDBOX_KEYS, sandboxProviderSettings } from './sandbox/server.ts';
import { PROVIDERS, type ProviderName } from './types.ts';

export type ProviderMode =
  | { kind: 'sandbox'; url: string }
  | { kind: 'live'; providers: ProviderName[] }
  | { kind: 'none' };

/** The provider keys (or Snov's client id and secret) a setting names. */
function keysOf(cfg: EnrichCoreSettings): Record<ProviderName, string[]> {
  return {
    apollo: [cfg.APOLLO_API_KEY],
    clearbit: [cfg.CLEARBIT_API_KEY],
    hunter: [cfg.HUNTER_API_KEY],
    snov: [cfg.SNOV_CLIENT_ID, cfg.SNOV_CLIENT_SECRET],
  };
}

const SANDBOX_KEY_VALUES = new Set<string>(Object.values(SANDBOX_KEYS));

/** A key is real when every part is set and none is one the sandbox hands out. */
const isRealKey = (parts: string[]) => parts.every((k) => k !== '' && !SANDBOX_KEY_VALUES.has(k));

export function providerMode(cfg: EnrichCoreSettings): ProviderMode {
  if (cfg.ENRICH_SANDBOX) return { kind: 'sandbox', url: cfg.ENRICH_SANDBOX_URL };
  const keys = keysOf(cfg);
  const providers = PROVIDERS.filter((p) => isRealKey(keys[p]));
  return providers.length > 0 ? { kind: 'live', providers } : { kind: 'none' };
}

/** The settings the adapters are built from: in sandbox mode, every base URL and key points at it. */
export function providerSettings<S extends EnrichCoreSettings>(cfg: S, mode: ProviderMode): S {
  return mode.kind === 'sandbox' ? { ...cfg, ...sandboxProviderSettings(mode.url) } : cfg;
}

export const askedProviders = (mode: ProviderMode): readonly ProviderName[] =>
  mode.kind === 'sandbox' ? PROVIDERS : mode.kind === 'live' ? mode.providers : [];

/** One line for startup logs and the embedded summary. */
export function describeMode(mode: ProviderMode): string {
  switch (mode.kind) {
    case 'sandbox':
      return `sandbox providers at ${mode.url} (invented data, labelled sandbox:<provider>)`;
    case 'live':
      return `live providers ${mode.providers.join(', ')}`;
    case 'none':
      return 'no providers (no provider key set): input values, DNS technographics and cached real answers only';
  }
}
