import { createRequire } from 'node:module';

/**
 * Throw-away mailbox domains, from the `disposable-email-domains` package (ivolo's list: ~120,000
 * domains in index.json, plus wildcard.json whose every subdomain is disposable). Both are plain JSON
 * arrays of lower-case domains; the check at load time fails loudly if a new version changes that.
 */
const require = createRequire(import.meta.url);
const exact = domainSet(require('disposable-email-domains'), 'index.json');
const wildcard = domainSet(require('disposable-email-domains/wildcard.json'), 'wildcard.json');

function domainSet(data: unknown, file: string): Set<string> {
  if (!Array.isArray(data) || data.some((d) => typeof d !== 'string')) {
    throw new Error(`disposable-email-domains/${file} is no longer a plain list of domains`);
  }
  return new Set(data as string[]);
}

/** The domain or one of its parents is disposable (mx.mailinator.com counts as mailinator.com). */
export function isDisposableDomain(domain: string): boolean {
  let d = domain;
  for (;;) {
    if (exact.has(d) || wildcard.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot < 0 || d.indexOf('.', dot + 1) < 0) return false;
    d = d.slice(dot + 1);
  }
}
