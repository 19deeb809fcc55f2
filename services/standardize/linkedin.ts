/**
 * LinkedIn profile and company URLs in one canonical form, so the same person or company compares equal
 * across uploads and enrichment: "https://www.linkedin.com/in/<slug>" or ".../company/<slug>", slug
 * lower-cased (LinkedIn slugs are case-insensitive), country sub-domains, query, fragment and trailing
 * path dropped. Anything else is kept as cleaned text.
 */
import { cleanField } from '../lib/text.ts';

const KINDS = new Set(['in', 'company', 'school', 'showcase', 'pub']);

export function standardizeLinkedin(raw: string | null | undefined): string | null {
  const text = cleanField(raw);
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return text;
  }
  const host = url.hostname.toLowerCase();
  if (host !== 'linkedin.com' && !host.endsWith('.linkedin.com')) return text;
  const [kind, slug] = url.pathname.split('/').filter((part) => part !== '');
  if (kind === undefined || slug === undefined || !KINDS.has(kind.toLowerCase())) return text;
  return `https://www.linkedin.com/${kind.toLowerCase()}/${slug.toLowerCase()}`;
}
