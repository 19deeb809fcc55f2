import { LRUCache } from 'lru-cache';

/**
 * A bounded memo for a pure one-string function. Titles, company names and countries repeat heavily
 * inside an upload (the same employer and job titles on many rows), so phase 2 computes each distinct
 * value once per few thousand rows. Results must be treated as immutable.
 */
export function memoize<R>(
  fn: (input: string) => R,
  max = 20_000,
): (input: string | null | undefined) => R | null {
  const cache = new LRUCache<string, { result: R }>({ max });
  return (input) => {
    if (input == null) return null;
    const hit = cache.get(input);
    if (hit !== undefined) return hit.result;
    const result = fn(input);
    cache.set(input, { result });
    return result;
  };
}
